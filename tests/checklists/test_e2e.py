"""Every built-in checklist, end to end, on a site made of real peers in a network namespace.

The answers are each checklist's own answers template, with only the targets pointed at the
site's peers (the way a technician edits the template); the check steps run the real
diagnostics from the client namespace against them.
"""

import json
import tomllib

import pytest

from tests.conftest import need_root, need_tool
from tests.peers.site import CONFIG, SITE, Site

pytestmark = pytest.mark.integration

BUILTINS = ("disk-full", "email-not-working", "mobile-mail-sync", "no-network", "phone-voip",
            "printer-not-printing", "slow-computer", "vpn-cannot-connect",
            "workstation-handover")


def overrides(site):
    """What a technician would type for this site, per checklist (targets only)."""
    return {
        "printer-not-printing": {"printer": site.printer_uri},
        "no-network": {"what": "one-service", "service": "intranet.site.test:443",
                       "internet": ["web.site.test:443", f"{SITE}:443"]},
        "email-not-working": {"mail-server": "mail.site.test"},
        "workstation-handover": {"file-share": "files.site.test:445",
                                 "printer": site.printer_uri,
                                 "mail-server": "submission://mail.site.test"},
        "vpn-cannot-connect": {"gateway": "vpn.site.test:443"},
        "phone-voip": {"sip-server": "sip.site.test:5060",
                       "sip-tls-server": "sip.site.test:5061"},
        "mobile-mail-sync": {"sync-server": "mail.site.test:443",
                             "imap-server": "imaps://mail.site.test"},
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_root()
    need_tool("ip", "dnsmasq", "dovecot", "ippeveprinter", "dbus-daemon", "avahi-daemon")
    instance = Site(tmp_path_factory.mktemp("site"))
    try:
        yield instance
    finally:
        instance.close()


def toml_value(value):
    return json.dumps(value)  # strings, lists of strings and booleans read the same in TOML


def edited_template(site, home, checklist_id):
    r = site.fieldkit(home, "checklist", "show", checklist_id, "--answers-template")
    assert r.returncode == 0, r.stderr
    text = r.stdout
    for key, value in overrides(site).get(checklist_id, {}).items():
        lines = text.splitlines()
        (n,) = [i for i, line in enumerate(lines) if line.startswith(f"{key} = ")]
        lines[n] = f"{key} = {toml_value(value)}"
        text = "\n".join(lines) + "\n"
    path = home / f"{checklist_id}.toml"
    path.write_text(text)
    return path, tomllib.loads(text)["answers"]


@pytest.mark.parametrize("checklist_id", BUILTINS)
def test_builtin_runs_end_to_end_on_the_site(site, home, checklist_id):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(CONFIG)
    answers_file, answers = edited_template(site, home, checklist_id)
    r = site.fieldkit(home, "checklist", "run", checklist_id, "--answers", str(answers_file),
                      "--new-ticket", "--json")
    assert r.returncode == 0, r.stderr
    run = json.loads(r.stdout)
    steps = {s["id"]: s for s in run["checklist"]["steps"]}
    assert set(answers) == set(steps)  # the template answers every step
    assert run["status"] == "completed" and run["ticket"]["ref"] == "FK-1"
    records = {r["id"]: r for r in run["steps"]}
    assert "pending" not in {r["result"] for r in records.values()}
    for rec in records.values():
        if rec["note"].startswith("not relevant"):
            assert rec["by"] == "" and rec["result"] == "skip"
        else:
            assert rec["by"] == "Tess Tech" and rec["at"].endswith("Z"), rec

    checks = [i for i, s in steps.items() if s["kind"] == "check" and records[i]["by"]]
    assert checks and all(records[i]["findings"] for i in checks)  # real evidence each time
    for step_id in checks:
        step, rec = steps[step_id], records[step_id]
        if not rec["targets"]:
            continue  # a local check (disk, system, network): its own verdicts
        for finding in rec["findings"]:  # every target was reached on the site
            if finding["check"] != "printer.supply":  # (the printer's, not the port's, state)
                reach = finding["data"].get("reach", finding["data"])
                assert reach["state"] == "open", (step_id, finding)
        if step["check"] == "mail":  # the site's certificates come from a private test CA
            assert rec["result"] == "fail"
            assert all("unknown issuer" in f["summary"] for f in rec["findings"]
                       if f["subject"].startswith(("submission", "smtps", "imap"))), \
                [(f["subject"], f["summary"]) for f in rec["findings"]]
        else:
            assert rec["result"] == "ok", (step_id, rec["findings"])
    for step_id, value in overrides(site).get(checklist_id, {}).items():
        if steps[step_id]["kind"] == "check":
            assert records[step_id]["targets"] == value
        else:
            assert records[step_id]["answer"] == value

    suggestions = run["suggestions"]
    assert suggestions["category"] and suggestions["level"] in (1, 2, 3) and \
        suggestions["advice"]
    # the run is on the ticket the run opened, which took the suggested classification
    shown = json.loads(site.fieldkit(home, "ticket", "show", "1", "--json").stdout)
    (summary,) = shown["checklist_runs"]
    assert summary["id"] == run["id"] and summary["status"] == "completed"
    assert [s["result"] for s in summary["steps"]] == [r["result"] for r in run["steps"]]
    for step in summary["steps"]:  # the verdicts are on the ticket, the evidence in the file
        assert [f["status"] for f in step.get("findings", [])] == [
            f["status"] for f in records[step["id"]]["findings"]]
    assert (shown["category"], shown["impact"], shown["urgency"]) == (
        suggestions["category"], suggestions["impact"], suggestions["urgency"])
