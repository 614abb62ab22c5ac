"""The search words a German technician types: folding, prefixes, compounds, several words."""

import json

import pytest

from fieldkit.knowledge.text import first_hit, fold, index_words, query_words
from fieldkit.tickets import query
from fieldkit.tickets.index import words_path
from fieldkit.tickets.model import Ticket
from fieldkit.tickets.store import TicketStore


def test_folding_spells_out_umlauts_and_drops_case():
    assert fold("Müller Straße ÖL Übung Café") == "mueller strasse oel uebung cafe"
    assert fold("MUELLER") == fold("Müller")


def test_compounds_are_indexed_with_their_known_parts():
    found = index_words("Druckerpatrone leer, Anmeldefehler am Lüfterschacht")
    assert {"druckerpatrone", "patrone", "anmeldefehler", "fehler", "schacht"} <= found
    assert "ler" not in found, "never every substring"


def test_several_arguments_are_several_words_and_single_digits_count():
    assert query_words(["Kassette", "2"]) == ["kassette", "2"]
    assert query_words("Tray 2 tray") == ["tray", "2"]


def test_a_snippet_is_cut_where_the_word_is_written():
    text = "Bei Frau Müller druckt nichts"
    assert first_hit(text, ["druck"]) == (text.index("druckt"), "druckt")
    assert first_hit(text, ["mueller"]) == (text.index("Müller"), "Müller")


@pytest.fixture
def store(tmp_path):
    store = TicketStore(tmp_path / "store", actor="test")
    texts = [("Drucker im 2. OG", "Papierstau in Kassette 2"),
             ("Laptop von Frau Müller", "WLAN bricht ab"),
             ("Etikett druckt nur leer", "Druckerpatrone getauscht"),
             ("Kassette 3 klemmt", "Fach 2 ist frei"),
             ("Outlook", "Passwort von Herrn Mueller abgelaufen")]
    for title, note in texts:
        ticket = Ticket.create(title)
        ticket.add_note(note, 5)
        store.create_many([(ticket, None)])
    return store


def found(store, text):
    hits, total = query.search(store, text, query.Filter(archived=True), 50)
    assert total == len(hits)
    return sorted(h.row.ref for h in hits)


def test_a_prefix_finds_every_word_it_begins(store):
    assert found(store, "Druck") == ["FK-1", "FK-3"]  # "Drucker", "druckt", "Druckerpatrone"


def test_mueller_finds_mueller_with_an_umlaut_and_back(store):
    assert found(store, "mueller") == ["FK-2", "FK-5"]
    assert found(store, "MÜLLER") == ["FK-2", "FK-5"]


def test_every_word_is_required(store):
    assert found(store, ["Kassette", "2"]) == ["FK-1", "FK-4"]  # FK-4: "Fach 2"
    assert found(store, ["Kassette", "2", "Papierstau"]) == ["FK-1"]
    assert found(store, ["Kassette", "Outlook"]) == []


def test_a_compound_is_found_by_its_part(store):
    assert found(store, "patrone") == ["FK-3"]
    assert found(store, "stau") == ["FK-1"]


def test_a_word_index_of_the_old_version_is_rebuilt_not_misread(store):
    """Indexes written by the fieldkit before folding hold "müller", not "mueller"."""
    for shard in store.hot.numbers():
        path = words_path(store.hot.path(shard))
        head, _, body = path.read_text().partition("\n")
        old = json.loads(head) | {"v": 1}
        path.write_text(json.dumps(old) + "\n" + body.replace("mueller", "müller"))
    assert found(store, "mueller") == ["FK-2", "FK-5"]
    assert all(json.loads(words_path(store.hot.path(s)).read_text().partition("\n")[0])["v"]
               == 2 for s in store.hot.numbers())


def test_ticket_search_takes_several_words(cli, home):
    cli("ticket", "new", "-t", "Papierstau Kassette 2")
    cli("ticket", "new", "-t", "Kassette 3")
    result = cli("ticket", "search", "Kassette", "2", "--json")
    assert result.code == 0, result.err
    assert [h["ref"] for h in result.json()] == ["FK-1"]
    assert "Kassette" in result.json()[0]["snippet"]
