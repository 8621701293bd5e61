#!/usr/bin/env python3
"""Serve a stdio backend over HTTP: the Verity backend protocol, GET for the handshake and
POST per query (docs/backends.md). Standard library only.

    python3 examples/http_bridge.py [--port N] -- COMMAND [ARG...]
    # e.g.
    python3 examples/http_bridge.py --port 7701 -- verity serve --stdio --index .verity
    verity validate --backend http://127.0.0.1:7701/

It starts COMMAND, reads its handshake, then listens on 127.0.0.1 (port 0: any free port) and
prints `listening on http://127.0.0.1:PORT/` once ready. Requests are passed to the process
one at a time; a response with another id is skipped.
"""

import http.server
import json
import subprocess
import sys
import threading


def main():
    args = sys.argv[1:]
    port = 0
    if args[:1] == ["--port"]:
        port = int(args[1])
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    child = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    handshake = child.stdout.readline()
    if not handshake:
        sys.exit("the backend printed no handshake")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def answer(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer(200, handshake.strip())

        def do_POST(self):
            n = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(n).decode()
            try:
                wanted = json.loads(body)["id"]
            except (ValueError, KeyError):
                self.answer(400, json.dumps({"error": "not a request"}))
                return
            with lock:
                child.stdin.write(body.replace("\n", " ") + "\n")
                child.stdin.flush()
                while True:
                    line = child.stdout.readline()
                    if not line:
                        self.answer(502, json.dumps({"error": "the backend exited"}))
                        return
                    try:
                        if json.loads(line).get("id") == wanted:
                            break
                    except ValueError:
                        pass
            self.answer(200, line.strip())

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    finally:
        child.stdin.close()
        child.wait()


if __name__ == "__main__":
    main()
