"""The words of ``mail``: summaries and first-level hints, apart from the dialogue code."""

from __future__ import annotations

NO_STARTTLS_HINT = ("The server offers no STARTTLS: mail (and any password) travels unencrypted. "
                    "Use the TLS port ({alt}) in the client, or escalate to the mail admin.")
PLAINTEXT_HINT = ("The server accepts a login before encryption is on: a misconfigured client "
                  "may send the password in clear. Configure clients for STARTTLS/SSL; tell "
                  "the mail admin (disable plaintext auth).")
EXPIRY_HINT = "The certificate expires in {days} days: tell the mail admin to renew it now."
AUTH_HINT = ("The server refused the login: check user name and password (caps lock, "
             "recently changed?), whether the account is locked, or escalate.")
NO_AUTH_HINT = ("The server offers no login this client can use on this port ({detail}): use "
                "the submission port (587) or the TLS port, or ask the mail admin.")
PROTOCOL_HINT = ("Port {port} answers, but not as a {protocol} server should: wrong port for "
                 "this service, or something in between (proxy, firewall) interferes. Escalate.")
TLS_FAIL_HINT = ("The encrypted connection could not be set up ({detail}). Escalate to the mail "
                 "admin with this finding.")
TLS_VERSION_HINT = ("The server and this machine share no TLS version ({detail}): one side only "
                    "speaks versions the other has switched off. The mail admin must enable "
                    "TLS 1.2/1.3 (escalate); do not lower the client's security settings.")
TLS_REFUSED_HINT = ("The server offers STARTTLS but refuses it when asked ({reply}): a TLS "
                    "problem on the server itself (certificate or key not loaded, TLS switched "
                    "off), not this machine, the port or the network. Escalate to the mail "
                    "admin; until then clients cannot send securely here.")
CUT_HINT = ("The server hung up {after} without a word of TLS: its TLS setup is broken (no "
            "certificate or key loaded, a crashing TLS service) or something in between cuts "
            "encrypted connections. Escalate to the mail admin with this finding; the TLS port "
            "({alt}) may still work.")
MASKED_HINT = ("A firewall or router between here and the server rewrites the SMTP dialogue "
               "(Cisco ASA/PIX 'ESMTP inspection' or a similar mail guard) and hides STARTTLS: "
               "clients set to STARTTLS cannot send, others send unencrypted. Another port "
               "behind the same firewall fares no better than {port}: ask the network team to "
               "turn off SMTP/ESMTP inspection for this server (escalate).")
OLD_TLS_HINT = ("The mail server only speaks outdated TLS ({offered}); this machine (like every "
                "current mail client) requires TLS 1.2 or newer. The mail admin must enable "
                "TLS 1.2/1.3 (escalate). Do not lower the client's security settings.")
STALL_HINT = ("The small steps worked ({reached}) but the TLS handshake never completed: the "
              "server's large handshake packets do not get through. Typical of a path-MTU black "
              "hole (a VPN/tunnel or PPPoE link with a smaller MTU while a firewall drops ICMP "
              "'fragmentation needed') or a middlebox that inspects TLS. Try another network or "
              "lower the MTU to test; escalate to the network team with this finding.")
CLOCK_HINT = ("This machine's clock is {offset} ({source}): the certificate is valid for the "
              "real date (until {not_after}). Fix the date and time and turn on automatic time "
              "sync, then check again - the server is fine.")
CLOCK_UNKNOWN_HINT = ("Check this machine's date and time first (it says {now}; no outside "
                      "time source could be reached to compare). If the clock is right, the "
                      "server admin must renew the certificate (escalate).")
CLOCK_UNKNOWN_EARLY_HINT = ("Check this machine's date and time first (it says {now}; no outside "
                            "time source could be reached to compare). If the clock is right, "
                            "the certificate's start date is in the future: the server admin "
                            "installed it too early (escalate).")
CLOCK_IMPOSSIBLE_HINT = ("This machine's clock says {now}, a date before this version of "
                         "fieldkit existed: set the correct date and time (check the BIOS/CMOS "
                         "battery if it resets) and turn on automatic time sync, then check "
                         "again. Do not ask for a new certificate: it only looks not yet valid.")
CERT_WORDS = {"self-signed": "self-signed certificate", "expired": "certificate expired",
              "not-yet-valid": "certificate not valid yet",
              "hostname-mismatch": "certificate is for another name",
              "untrusted": "certificate from an unknown issuer",
              "chain-incomplete": "chain incomplete (the server does not send its intermediate "
                                  "certificate)",
              "error": "certificate cannot be verified"}
ALT_PORT = {"smtp": "465 or 587", "imap": "993", "pop3": "995"}
