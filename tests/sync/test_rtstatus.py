"""The compare-and-set verdict on RT's status history (pure: no server)."""

from fieldkit.sync.backend import Update
from fieldkit.sync.rt.status import Change, judge
from fieldkit.tickets.model import Ticket

UPDATE = Update("7", Ticket.create("t"), status="resolved", expect="open")


def test_a_clean_write_is_no_race():
    assert judge(UPDATE, [Change(10, "open", "resolved", "fieldkit")], "resolved", {10}) is None


def test_a_refused_write_leaves_no_history_and_is_left_to_the_re_read():
    assert judge(UPDATE, [], "open", set()) is None


def test_a_write_that_overwrote_another_change_puts_it_back():
    changes = [Change(10, "open", "stalled", "root"), Change(11, "stalled", "resolved", "fk")]
    race = judge(UPDATE, changes, "resolved", {11})
    assert race is not None and race.restore == "stalled" and race.other == changes[0]


def test_a_later_change_stays_on_the_server():
    changes = [Change(10, "open", "resolved", "fk"), Change(11, "resolved", "stalled", "root")]
    race = judge(UPDATE, changes, "stalled", {10})
    assert race is not None and race.restore is None and race.now == "stalled"


def test_someone_else_setting_the_same_status_is_agreement():
    """fieldkit's write was a no-op: nothing of fieldkit's to undo, nothing to put back."""
    changes = [Change(10, "open", "stalled", "root"), Change(11, "stalled", "resolved", "root")]
    assert judge(UPDATE, changes, "resolved", set()) is None


def test_a_change_undone_before_fieldkit_wrote_is_no_race():
    changes = [Change(10, "open", "stalled", "root"), Change(11, "stalled", "open", "root"),
               Change(12, "open", "resolved", "fk")]
    assert judge(UPDATE, changes, "resolved", {12}) is None
