"""Which certificate authorities fieldkit trusts: the operating system's, plus one the user names.

Sync (httpx) and the mail checks (ssl sockets) build their TLS context here and nowhere else, so
the two can never disagree about a server. The OS trust store comes through ``truststore`` (the
library pip itself uses): on Linux that is the distribution's CA bundle, on macOS and Windows the
system keychain / certificate store, which is where a company installs its internal CA. A
``ca_file`` is *added* to that, never a replacement: naming an internal CA must not make a
publicly trusted server look untrusted.
"""

from __future__ import annotations

import ssl

from fieldkit.errors import InputError


def client_context(ca_file: str | None = None, *, what: str = "CA file") -> ssl.SSLContext:
    """A verifying client context: OS trust store plus ``ca_file`` (PEM) when given.

    ``what`` names the setting the file came from (``--ca-file``, ``[sync] ca_file``), so a
    file that cannot be used is reported in the words the user typed.
    """
    try:
        import truststore
    except ImportError:  # the remote probe on a bare python3: OpenSSL's default CA paths, which
        # is what truststore reads on Linux anyway
        context = ssl.create_default_context()
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except FileNotFoundError:
            raise InputError(f"{what} {ca_file}: no such file") from None
        except ssl.SSLError:  # before OSError, of which it is a kind
            raise InputError(f"{what} {ca_file}: not a PEM certificate file") from None
        except OSError as exc:
            raise InputError(f"{what} {ca_file}: cannot read it ({exc.strerror})") from None
    return context
