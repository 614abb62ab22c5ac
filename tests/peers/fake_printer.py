#!/usr/bin/env python3
"""A stdlib printer for what ippeveprinter cannot do: stopped with ``*-error`` reasons, marker
lists of unequal length, IPP 1.1 only, an odd resource path, an HTML page on the IPP port, and a
raw 9100 port answering PJL (or staying silent).

It shares no code with fieldkit on purpose (its IPP encoder is written out here), so a codec bug
cannot cancel itself out. The state file (JSON) is re-read on every request:

  {"state": "stopped", "reasons": ["media-jam-error", "cover-open-error"],
   "message": "Paper jam in tray 2", "accepting": false,
   "marker_names": ["Black", "Cyan"], "marker_levels": [3], "marker_types": ["toner"],
   "supplies": ["type=toner;maxcapacity=100;level=3;colorantname=black;"],
   "alerts": ["Jam in tray 2"], "versions": ["1.1"], "paths": ["/ipp"], "mode": "ipp|html",
   "pjl": {"code": 40022, "display": "PAPER JAM", "online": false, "id": "ACME 9000"},
   "pjl_silent": false}

usage: fake_printer.py HOST IPP_PORT RAW_PORT LPD_PORT STATE_FILE [CERT KEY]   (prints "ready")

With CERT and KEY the IPP port speaks only TLS (a printer set to "require encryption"): a
plaintext request there fails its handshake, as on such printers.
"""

import json
import socketserver
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATES = {"idle": 3, "processing": 4, "stopped": 5}
DEFAULT = {"state": "idle", "reasons": ["none"], "message": "Ready", "accepting": True,
           "make_model": "Acme FieldKit Fake 9000", "location": "Closet B",
           "firmware": ["ACME-FW 2.1"], "marker_names": ["Black Toner"], "marker_levels": [80],
           "marker_types": ["toner"], "marker_colors": ["#000000"], "supplies": [], "alerts": [],
           "versions": ["1.1", "2.0"], "paths": ["/ipp/print", "/ipp", "/"], "mode": "ipp",
           "pjl": {"code": 10001, "display": "READY", "online": True,
                   "id": "ACME FIELDKIT FAKE 9000"}, "pjl_silent": False}


def load(path):
    config = dict(DEFAULT)
    try:
        with open(path) as f:
            config.update(json.load(f))
    except FileNotFoundError:
        pass
    return config


def attr(tag, name, values):
    out = b""
    for i, value in enumerate(values):
        label = name.encode() if i == 0 else b""
        out += struct.pack(">BH", tag, len(label)) + label + struct.pack(">H", len(value)) + value
    return out


def strings(values):
    return [v.encode() for v in values]


def ints(values):
    return [struct.pack(">i", v) for v in values]


def answer(request_id, version, status, config, uri):
    body = struct.pack(">BBHI", *version, status, request_id)
    body += b"\x01" + attr(0x47, "attributes-charset", [b"utf-8"])
    body += attr(0x48, "attributes-natural-language", [b"en"])
    if status == 0:
        body += b"\x04"
        body += attr(0x23, "printer-state", ints([STATES[config["state"]]]))
        body += attr(0x44, "printer-state-reasons", strings(config["reasons"]))
        body += attr(0x41, "printer-state-message", strings([config["message"]]))
        body += attr(0x22, "printer-is-accepting-jobs", [b"\x01" if config["accepting"] else
                                                         b"\x00"])
        body += attr(0x41, "printer-make-and-model", strings([config["make_model"]]))
        body += attr(0x41, "printer-location", strings([config["location"]]))
        body += attr(0x45, "printer-uri-supported", strings([uri]))
        body += attr(0x21, "queued-job-count", ints([0]))
        if config["firmware"]:
            body += attr(0x41, "printer-firmware-string-version", strings(config["firmware"]))
        for key, tag, encode in (("marker_names", 0x42, strings), ("marker_types", 0x44, strings),
                                 ("marker_colors", 0x42, strings), ("marker_levels", 0x21, ints)):
            if config[key]:
                body += attr(tag, key.replace("_", "-"), encode(config[key]))
        if config["supplies"]:
            body += attr(0x30, "printer-supply", strings(config["supplies"]))
        if config["alerts"]:
            body += attr(0x41, "printer-alert-description", strings(config["alerts"]))
    return body + b"\x03"


class IPPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        config = load(self.server.state_file)
        if config["mode"] == "html":
            return self.reply(200, "text/html", b"<html>printer web page</html>")
        if self.path not in config["paths"]:
            return self.reply(404, "text/plain", b"not found")
        major, minor, _operation, request_id = struct.unpack(">BBHI", request[:8])
        version = f"{major}.{minor}"
        status = 0 if version in config["versions"] else 0x0503
        uri = f"ipp://{self.headers.get('Host', 'localhost')}{self.path}"
        self.reply(200, "application/ipp",
                   answer(request_id, (major, minor), status, config, uri))

    def reply(self, code, content_type, body):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class RawHandler(socketserver.StreamRequestHandler):
    """JetDirect: swallow the data, answer PJL INFO queries the way HP printers do."""

    def handle(self):
        self.request.settimeout(10)
        try:
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                config = load(self.server.state_file)
                if config["pjl_silent"]:
                    continue
                command = line.replace(b"\x1b%-12345X", b"").strip().upper()
                pjl = config["pjl"]
                if command == b"@PJL INFO STATUS":
                    self.wfile.write(b'@PJL INFO STATUS\r\nCODE=%d\r\nDISPLAY="%s"\r\n'
                                     b"ONLINE=%s\r\n\x0c" % (pjl["code"], pjl["display"].encode(),
                                                             b"TRUE" if pjl["online"] else
                                                             b"FALSE"))
                elif command == b"@PJL INFO ID":
                    self.wfile.write(b'@PJL INFO ID\r\n"%s"\r\n\x0c' % pjl["id"].encode())
        except OSError:
            pass


class QuietHandler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.close()


def main():
    host, ipp_port, raw_port, lpd_port, state_file = sys.argv[1:6]
    ipp = ThreadingHTTPServer((host, int(ipp_port)), IPPHandler)
    if len(sys.argv) > 7:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[6], sys.argv[7])
        ipp.socket = context.wrap_socket(ipp.socket, server_side=True)
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    raw = socketserver.ThreadingTCPServer((host, int(raw_port)), RawHandler)
    lpd = socketserver.ThreadingTCPServer((host, int(lpd_port)), QuietHandler)
    for server in (ipp, raw):
        server.state_file = state_file
    for server in (raw, lpd):
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ipp.daemon_threads = True
    print("ready", flush=True)
    ipp.serve_forever()


if __name__ == "__main__":
    main()
