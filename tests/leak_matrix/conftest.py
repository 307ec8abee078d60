"""The leak matrix's world: built once per module inside one transaction that is rolled back at the end;
each cell runs in a savepoint of its own (pytest-django's `django_db` mark: what a channel writes —
throttle counters, cache states — is undone, and a failing statement cannot break the cells after it).

Settings are those of `make demo` where they matter: `/media/` is served (IOC_SERVE_STATIC), the vector
tile cache lives under MEDIA_ROOT, MapProxy is configured from the catalog. MapProxy's upstream is a
small local HTTP server painting each layer's tiles in a colour of its own, so a test can tell which
layer MapProxy drew (the permission gate under test is Django's, in front of MapProxy).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from tests.leak_matrix.world import (
    World,
    make_analysis,
    make_field_report,
    make_personas,
    make_rows,
    register_layers,
)


class _Rollback(Exception):
    pass


def demo_urlconf() -> Any:
    """gis_ioc.urls evaluated with IOC_SERVE_STATIC on (as `make demo` runs), as a separate module."""
    spec = importlib.util.find_spec("gis_ioc.urls")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with override_settings(IOC_SERVE_STATIC=True):
        spec.loader.exec_module(module)
    return module


class _Upstream(BaseHTTPRequestHandler):
    """/tiles/raster/<slug>/z/x/y.png and /tiles/<slug>/z/x/y.png (vector layers drawn) -> a 256-pixel PNG
    in the slug's colour."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        import io

        from PIL import Image

        from tests.leak_matrix.channels_maps import slug_colour

        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 6 and parts[:2] == ["tiles", "raster"]:
            slug = parts[2]
        elif len(parts) == 5 and parts[0] == "tiles" and parts[4].endswith(".png"):
            slug = parts[1]
        else:
            self.send_error(404)
            return
        out = io.BytesIO()
        Image.new("RGBA", (256, 256), (*slug_colour(slug), 255)).save(out, "PNG")
        body = out.getvalue()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _own_tile_cache() -> None:
    """Overrides tests/conftest.py's per-test folders: the matrix keeps the demo's layout for the whole module
    (the tile cache under MEDIA_ROOT, where the raw-files channel looks for files it must not be served)."""


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any, upstream: str) -> Iterator[World]:
    """Everything the matrix needs, rolled back after the module."""
    tmp: Path = tmp_path_factory.mktemp("leak_matrix")
    media = tmp / "media"
    media.mkdir()
    overrides = override_settings(
        MEDIA_ROOT=media,
        IOC_SERVE_STATIC=True,
        PETITIONS={"submit_per_minute": 10_000, "read_per_minute": 100_000},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with pytest.MonkeyPatch.context() as mp, django_db_blocker.unblock():
        mp.delenv("IOC_TILE_CACHE_DIR", raising=False)  # MEDIA_ROOT/tilecache, as in the demo
        mp.delenv("IOC_TILE_CACHE", raising=False)
        mp.setenv("IOC_MAPPROXY_DIR", str(tmp / "mapproxy"))
        mp.setenv("IOC_MAPPROXY_CACHE_DIR", str(tmp / "mapproxy_cache"))
        overrides.enable()
        urls = override_settings(ROOT_URLCONF=demo_urlconf())  # built under this MEDIA_ROOT (serve's folder)
        urls.enable()
        try:
            from tiles.styles import _district_bounds

            _district_bounds.cache_clear()
            try:
                with transaction.atomic():
                    from gis_ioc.demo.district import district_loaded, load_district
                    from tiles import mapproxy

                    if not district_loaded():
                        load_district()
                    photos = make_rows()
                    register_layers(media, tmp)
                    mapproxy.write_config(upstream=upstream)
                    personas = make_personas()
                    make_field_report(personas["field_officer"].user, photos[-1])
                    make_analysis(personas["gis_staff"].user)
                    yield World(personas, media, photo_petitions=photos)
                    raise _Rollback
            except _Rollback:
                pass
        finally:
            urls.disable()
            overrides.disable()
            _district_bounds.cache_clear()
