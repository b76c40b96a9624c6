"""A real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible chat endpoint.

Each test gives it an ``answer`` function: request body in, (status, body) out, with an
optional delay to make the client time out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], tuple[int, str | bytes]]


def chat(content: str | None, **message: Any) -> tuple[int, str]:
    """A 200 answer whose first choice says ``content``."""
    body = {"choices": [{"message": {"role": "assistant", "content": content, **message}}]}
    return 200, json.dumps(body)


def payload_of(request: dict[str, Any]) -> Any:
    """The JSON payload the pass sent (the user message)."""
    return json.loads(request["messages"][-1]["content"])


class LlmEndpoint:
    def __init__(self, answer: Answer, delay: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                received.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                if delay:
                    time.sleep(delay)
                status, text = answer(body)
                data = text if isinstance(text, bytes) else text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout tests)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
