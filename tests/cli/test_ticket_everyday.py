"""Everyday use, part 2: what a technician trips over in a day of real tickets (issue 23)."""

# -- attach: all files or none ----------------------------------------------------------------


def test_attach_with_one_missing_file_writes_nothing_and_a_retry_attaches_once(proc, home,
                                                                              tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("Outlook log\n")
    proc("ticket", "new", "-t", "outlook")
    r = proc("ticket", "attach", "FK-1", str(good), str(tmp_path / "missing.txt"))
    assert r.code == 2 and "missing.txt: no such file" in r.err and "nothing was attached" in r.err
    assert proc("ticket", "show", "1", "--json").json()["attachments"] == []
    assert list((home / "store" / "files").iterdir()) == []
    r = proc("ticket", "attach", "FK-1", str(good))
    assert r.code == 0 and r.out.startswith("FK-1: attached a.txt (12 bytes")
    assert len(proc("ticket", "show", "1", "--json").json()["attachments"]) == 1


def test_attach_over_the_limit_names_the_file_and_keeps_the_others_out(proc, home, tmp_path):
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[tickets]\nmax_attachment_mib = 1\n")
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_text("ok\n")
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    proc("ticket", "new", "-t", "x")
    r = proc("ticket", "attach", "1", str(small), str(big))
    assert r.code == 2 and "big.bin: larger than the limit of 1 MiB" in r.err
    assert proc("ticket", "show", "1", "--json").json()["attachments"] == []
    r = proc("ticket", "attach", "1", str(small), "-", input=b"\0" * (1024 * 1024 + 1))
    assert r.code == 2 and "stdin.txt: larger than the limit of 1 MiB" in r.err
    assert list((home / "store" / "files").iterdir()) == []
    assert list((home / "store" / "tmp").iterdir()) == []


def test_attach_two_files_prints_a_line_for_each(proc, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    proc("ticket", "new", "-t", "x")
    r = proc("ticket", "attach", "1", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))
    assert r.code == 0 and [line.split(" (")[0] for line in r.out.splitlines()] == [
        "FK-1: attached a.txt", "FK-1: attached b.txt"]


# -- the note limit: 64 KiB of UTF-8 bytes, said so ---------------------------------------------


def test_note_limit_counts_utf8_bytes_and_says_so(proc, tmp_path):
    proc("ticket", "new", "-t", "x")
    umlauts = tmp_path / "umlauts.txt"
    umlauts.write_text("ä" * 40000)  # 40,000 characters, 80,000 bytes: over 64 KiB
    r = proc("ticket", "note", "1", f"@{umlauts}")
    assert r.code == 2 and "80000 bytes of UTF-8, at most 64 KiB = 65536 bytes" in r.err
    ascii_text = tmp_path / "ascii.txt"
    ascii_text.write_text("a" * 65536)
    assert proc("ticket", "note", "1", f"@{ascii_text}").code == 0
