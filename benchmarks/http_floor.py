"""The HTTP floor of the feature benchmark: a WSGI app with no framework and no database that answers
`GET /<name>` with the bytes of `$FLOOR_DIR/<name>` (read once, then served from memory).

Run under the same gunicorn settings as the platform, it measures what any Python server pays before
doing any work: the client, the socket, gunicorn's request parsing and the transfer of the same body.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

BODIES: dict[str, bytes] = {}


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    name = environ.get("PATH_INFO", "/").strip("/") or "ready"
    if name not in BODIES:
        path = Path(os.environ["FLOOR_DIR"]) / Path(name).name
        BODIES[name] = path.read_bytes() if path.is_file() else b"{}"
    body = BODIES[name]
    start_response("200 OK", [("Content-Type", "application/geo+json"), ("Content-Length", str(len(body)))])
    return [body]
