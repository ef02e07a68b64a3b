"""A stand-in for an OpenAI-compatible chat server, run as its own process on loopback by the tests.

The first path segment picks a scripted reply: POST /<scenario>/v1/chat/completions answers with
the reply set for <scenario> (POST /_script {"scenario": {"content": ..., "delay": s, "status": n,
"raw": text, "drip": s per byte, "redirect": url}}). Every request is recorded for GET /_requests, so
tests can read the prompt.

    python -m tests.llm_server    # prints "port N" once listening on 127.0.0.1
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPTS: dict[str, dict] = {}
REQUESTS: list[dict] = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # quiet: the tests read the record instead
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", drip: float = 0) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not drip:
            self.wfile.write(body)
        for i in range(len(body) if drip else 0):  # one byte at a time: every read succeeds, the reply never ends
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(drip)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/_requests":
            with LOCK:
                self._send(200, json.dumps(REQUESTS).encode())
        else:  # recorded too: a redirected client may arrive here with a GET
            with LOCK:
                REQUESTS.append({"scenario": self.path.strip("/").partition("/")[0], "headers": dict(self.headers)})
            self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_script":
            with LOCK:
                SCRIPTS.update(json.loads(body))
            self._send(200, b"{}")
            return
        scenario, _, rest = self.path.strip("/").partition("/")
        if rest != "v1/chat/completions":
            self._send(404, b'{"error": "not found"}')
            return
        request = json.loads(body)
        with LOCK:
            REQUESTS.append({"scenario": scenario, "headers": dict(self.headers), "body": request})
            script = dict(SCRIPTS.get(scenario, {"status": 404, "raw": '{"error": "no such scenario"}'}))
        time.sleep(script.get("delay", 0))
        try:
            if "redirect" in script:
                self.send_response(script.get("status", 302))
                self.send_header("Location", script["redirect"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if "raw" in script:
                self._send(script.get("status", 200), script["raw"].encode())
                return
            reply = {
                "id": f"chatcmpl-{len(REQUESTS)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", "scripted"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": script["content"]},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
            self._send(script.get("status", 200), json.dumps(reply).encode(), drip=script.get("drip", 0))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (the slow scenario)
            pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
