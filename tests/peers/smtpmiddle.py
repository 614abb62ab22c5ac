#!/usr/bin/env python3
"""What can stand between a mail client and a healthy server, or be a broken server (stdlib).

usage: smtpmiddle.py HOST SPEC ...
  PORT:mask:UPHOST:UPPORT  an SMTP-inspecting firewall in front of UPHOST:UPPORT, as Cisco's
                           ESMTP inspection does it: every EHLO line naming STARTTLS reaches the
                           client as "XXXXXXXA", and a STARTTLS command from the client reaches
                           the server as "XXXXXXXX" (which the server then does not know)
  PORT:cut                 a server that offers STARTTLS, answers "220 Ready to start TLS" and
                           then closes the connection without a TLS word (a broken TLS setup)
Prints "ready" once every port listens.
"""

import asyncio
import re
import sys

host, specs = sys.argv[1], sys.argv[2:]
STARTTLS = re.compile(rb"STARTTLS", re.IGNORECASE)


async def pump(reader, writer, rewrite) -> None:
    try:
        while line := await reader.readline():
            writer.write(rewrite(line))
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def server_line(line: bytes) -> bytes:
    """EHLO answer lines: '250-STARTTLS' -> '250-XXXXXXXA' (the same length, as Cisco's)."""
    if line[:3] == b"250" and STARTTLS.search(line):
        return STARTTLS.sub(b"XXXXXXXA", line)
    return line


def client_line(line: bytes) -> bytes:
    return b"XXXXXXXX" + line[8:] if line[:8].upper() == b"STARTTLS" else line


def masking(upstream: tuple[str, int]):
    async def handle(reader, writer) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pump(reader, up_writer, client_line),
                             pump(up_reader, writer, server_line))
    return handle


async def cutting(reader, writer) -> None:
    writer.write(b"220 cut.fieldkit.test ESMTP FieldKit-Test-cut\r\n")
    try:
        while line := await reader.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-cut.fieldkit.test\r\n250-STARTTLS\r\n250 HELP\r\n")
            elif verb == b"STARTTLS":
                writer.write(b"220 Ready to start TLS\r\n")
                await writer.drain()
                break  # and hang up: no ServerHello ever comes
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                break
            else:
                writer.write(b"500 Error: command not recognized\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def main() -> None:
    servers = []
    for spec in specs:
        port, kind, *rest = spec.split(":")
        handler = masking((rest[0], int(rest[1]))) if kind == "mask" else cutting
        servers.append(await asyncio.start_server(handler, host, int(port)))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
