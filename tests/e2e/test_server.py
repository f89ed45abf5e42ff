"""The browser tests' own server: an answer is closed whatever the client does."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import serving

BODY = b"x" * 4096


class _Answer:
    """A WSGI answer that tells when the server closed it (a served file is such an answer)."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        yield BODY

    def close(self) -> None:
        self.closed.set()


def test_an_answer_is_closed_when_the_client_resets_the_connection_after_reading_it() -> None:
    # What a browser leaving a page does to a request in flight: the whole answer arrived, and
    # the connection is reset while the server still drains what the client sent after it.
    answer = _Answer()

    def app(environ: dict[str, Any], start_response: Any) -> _Answer:
        start_response("200 OK", [("Content-Length", str(len(BODY)))])
        return answer

    with serving(app) as url:
        address = urlsplit(url)
        with socket.create_connection((str(address.hostname), int(address.port or 0))) as client:
            # one byte past the request keeps the server's drain reading until the client goes
            client.sendall(b"GET /asset.js HTTP/1.1\r\nHost: test\r\n\r\n-")
            received = b""
            while not received.endswith(BODY):
                chunk = client.recv(65536)
                assert chunk, f"the server closed before its answer was sent: {received!r}"
                received += chunk
            assert received.startswith(b"HTTP/1.1 200")
            # linger 0: closing sends a reset instead of the orderly end
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert answer.closed.wait(10), "the answer was never closed"
