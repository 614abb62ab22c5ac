"""Mail servers, the targeted ``diag mail``: per port reach, greeting, STARTTLS, certificate and
login (``server``), the protocol dialogues over the standard library's clients (``proto``) and
the texts a technician reads (``texts``).
"""

from __future__ import annotations

from fieldkit.diagnostics.kinds import Option, Password, TargetedKind, timeout_option

MAIL = TargetedKind(
    "mail",
    "Check mail servers: reach, TLS, certificate, login.",
    "Per target: reachability, greeting, capabilities, STARTTLS, TLS version and certificate\n"
    "verdict, and with --user a login test. Sends no mail.\n\n"
    "\b\nExamples:\n"
    "  fieldkit diag mail mail.acme.example\n"
    "  fieldkit diag mail submission://mail.acme.example --user ann",
    targets="TARGET...",
    targets_help="A URL SCHEME://host[:port] with SCHEME one of smtp, submission, smtps, imap, "
                 "imaps, pop3, pop3s; or a bare host for all seven ports.",
    parse="fieldkit.diagnostics.mail.server:parse_mail_target",
    run="fieldkit.diagnostics.mail.server:run",
    input_type="mail",
    input_hint="mail server",
    input_words="smtp|submission|smtps|imap|imaps|pop3|pop3s://host[:port], or a host",
    options=(timeout_option(5.0, "Seconds per network step."),
             Option("ca_file", ("--ca-file",), "Also trust this CA (PEM), e.g. an internal "
                    "company CA (with --host: a file on that machine).", "PEM"),
             Option("user", ("--user", "-u"), "Test a login as this user (asks for the "
                    "password; FIELDKIT_MAIL_PASSWORD).", "NAME")),
    targets_required=True,
    check_here="fieldkit.diagnostics.kinds:ca_file_here",
    password=Password("user", "FIELDKIT_MAIL_PASSWORD", "Password for {value}",
                      "--user needs a password: no terminal to ask for it (set "
                      "FIELDKIT_MAIL_PASSWORD)"),
)
KINDS = (MAIL,)
