"""Forwarding to Sentry: with a DSN, an error reaches the Sentry server scrubbed; without one, nothing starts."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings

from dit_project.sentry import scrub_event

CHILD = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    from django.conf import settings
    settings.configure(SECRET_KEY="child-secret-key-0123456789", OPENAI_API_KEY="sk-child-provider-key-42")
    from dit_project.sentry import init_sentry
    init_sentry(dsn=sys.argv[1], environment="test")
    try:
        raise RuntimeError("provider refused sk-child-provider-key-42; Authorization: Bearer tok-abcdef123")
    except RuntimeError as exc:
        sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=10)
    """
)


class _Sentry(BaseHTTPRequestHandler):
    bodies: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.bodies.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def test_an_error_reaches_sentry_with_its_secrets_masked():
    bodies: list[bytes] = []
    handler = type("Handler", (_Sentry,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
        child = subprocess.run(
            [sys.executable, "-c", CHILD, dsn],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()

    assert child.returncode == 0, child.stderr
    # An envelope is lines of JSON; read back without \u escapes so the mask is searchable.
    lines = b"\n".join(bodies).decode().splitlines()
    sent = "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in lines if line.strip())
    assert "provider refused" in sent
    assert "RuntimeError" in sent
    assert "sk-child-provider-key-42" not in sent
    assert "tok-abcdef123" not in sent
    assert "child-secret-key-0123456789" not in sent
    assert "Bearer ••••" in sent


def test_an_event_is_scrubbed_in_every_string_it_holds(settings):
    settings.OPENAI_API_KEY = "sk-event-key-0001"
    event = {
        "message": "key sk-event-key-0001",
        "request": {"headers": {"Authorization": "Bearer abcdefgh"}, "url": "https://u:pw123456@h/x"},
        "extra": [{"note": "sk-event-key-0001"}, 3],
    }

    scrubbed = scrub_event(event, {})

    assert scrubbed["message"] == "key ••••"
    assert scrubbed["request"]["headers"]["Authorization"] == "Bearer ••••"
    assert scrubbed["request"]["url"] == "https://u:••••@h/x"
    assert scrubbed["extra"] == [{"note": "••••"}, 3]
