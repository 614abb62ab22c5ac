"""Remote: run fieldkit's diagnostics on another machine over SSH, with real host-key checks.

``target`` reads ``--host ssh://[user@]host[:port]`` through ``~/.ssh/config`` and
``/etc/ssh/ssh_config`` (``sshconfig``); ``hostkeys`` decides about host keys as OpenSSH does
(every known_hosts file ssh reads, read only, plus its own file it only appends to); ``ssh``
connects (paramiko, imported there and nowhere else: only commands that use SSH pay for it) and
turns every failure into one line and exit 7; ``zipapp`` builds the probe, this
package's own checks in one file a bare ``python3`` runs; ``probe`` is that file's entry point;
``run`` decides between a fieldkit installed on the remote and the probe. The SFTP drop backend
(``fieldkit.sync.sftp``) connects through ``ssh`` too.

This package's ``__init__`` and ``probe`` travel inside the probe: they import nothing beyond
the standard library and ``fieldkit.diagnostics``.
"""
