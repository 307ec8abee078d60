"""Fixtures of the bad-input corpus."""

from __future__ import annotations

import pytest

from tests.tiles.conftest import demo_cogs, demo_rasters, tile_dirs  # noqa: F401  (registers the fixtures)


@pytest.fixture
def mapproxy_ready(demo_rasters):  # noqa: F811
    """MapProxy configured from the catalog (the demo rasters) in this test's own folders; no upstream is
    ever reached, every corpus request is refused before a tile is fetched."""
    from tiles import mapproxy

    return mapproxy.write_config(upstream="http://127.0.0.1:9")
