"""Guard: the session really runs in a private network namespace (see tests/netisolation.py)."""

import os
import subprocess


def test_session_is_isolated_from_the_host_network():
    assert os.readlink("/proc/self/ns/net") == os.environ["FIELDKIT_TEST_NETNS"]
    routes = subprocess.run(["ip", "route", "show", "default"], capture_output=True, text=True)
    assert routes.stdout.strip() == "", "a default route exists: probes could leave the machine"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
