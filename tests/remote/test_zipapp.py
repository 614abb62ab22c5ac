"""The probe: built from this package, deterministic, and runnable by a bare python3 (no
site-packages: no psutil, netifaces, truststore), where the kernel's files stand in."""

import json
import subprocess
import sys
import zipfile
from io import BytesIO

from fieldkit.remote import zipapp


def run_probe(tmp_path, request, python=sys.executable, bare=True):
    path = tmp_path / zipapp.NAME
    path.write_bytes(zipapp.build())
    # -S: no site-packages; -I: no user site, no PYTHON* variables, no current directory
    flags = ["-I", "-S"] if bare else ["-I"]
    return subprocess.run([python, *flags, str(path)], input=json.dumps(request),
                          capture_output=True, text=True, timeout=60)


def test_build_is_deterministic_and_carries_only_the_checks():
    first, second = zipapp.build(), zipapp.build()
    assert first == second
    names = zipfile.ZipFile(BytesIO(first)).namelist()
    assert "__main__.py" in names and "fieldkit/remote/probe.py" in names
    assert "fieldkit/diagnostics/host/system.py" in names
    assert "fieldkit/configschema.py" in names  # the checks' settings schema
    # nothing of sync: the schema is handed the backend names, it does not import them
    assert not [n for n in names if n.startswith(("fieldkit/cli", "fieldkit/sync",
                                                  "fieldkit/tickets", "fieldkit/remote/ssh"))]


def test_a_bare_python_runs_every_check_psutil_would(tmp_path):
    """Without psutil and netifaces the checks read /proc and /sys: same checks, same verdicts."""
    job = {"kind": "diag", "checks": ["system", "disk", "network"], "probe": False}
    r = run_probe(tmp_path, {"job": job})
    assert r.returncode in (0, 1), r.stderr
    run = json.loads(r.stdout)
    assert run["schema"] == "fieldkit.diag/1"
    found = {(f["check"], f["subject"]): f["status"] for f in run["findings"]}
    assert not [f["summary"] for f in run["findings"] if "Python library" in f["summary"]]
    here = run_probe(tmp_path, {"job": job}, python=sys.executable, bare=False)
    assert found == {(f["check"], f["subject"]): f["status"]
                     for f in json.loads(here.stdout)["findings"]}


def test_a_refused_job_is_one_json_line_and_exit_3(tmp_path):
    r = run_probe(tmp_path, {"job": {"kind": "diag", "checks": ["toaster"]}})
    assert r.returncode == 3
    answer = json.loads(r.stdout)
    assert answer["probe_error"] == "refused" and answer["exit_code"] == 2
    assert "unknown check toaster" in answer["message"]
