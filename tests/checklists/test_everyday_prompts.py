"""Issue 23 on a real terminal: the skipped-step line and the line after Ctrl-C."""

from tests.checklists.pty import Terminal

LIST = """id = "vpn-check"
title = "VPN check"
category = "network"
version = 1

[[steps]]
id = "online"
kind = "confirm"
title = "Is the laptop online?"
expect = true
tip = "Connect to the Wi-Fi first."

[[steps]]
id = "cable"
kind = "confirm"
title = "Is the cable plugged in?"
when = "online failed"

[[steps]]
id = "client"
kind = "confirm"
title = "Is the VPN client running?"
"""


def test_skipped_step_has_single_brackets_and_ctrl_c_error_on_its_own_line(home):
    (home / "checklists").mkdir(parents=True)
    (home / "checklists" / "vpn-check.toml").write_text(LIST)
    t = Terminal(home, "checklist", "run", "vpn-check", "--new-ticket")
    t.expect(r"Is the laptop online\?\n  yes/no")
    t.line("yes")
    line = t.expect(r"step 2/3  skipped: [^\n]*\n").group(0)
    assert line == "step 2/3  skipped: Is the cable plugged in? - not relevant " \
                   "(when online failed)\n"
    t.expect(r"Is the VPN client running\?\n  yes/no")
    t.send("\x03")
    assert t.wait() == 130
    assert "^Cfieldkit" not in t.output and "^C\nfieldkit: error: interrupted" in t.output
