"""The platform on Citus: a coordinator and two workers (scripts/ioc-citus), sector tables distributed by commune.

Run by `make test-distributed` only (tests/conftest.py leaves this folder out of `make test`): it starts the
clusters, recreates the database, migrates, runs `manage.py citus_distribute` and sets IOC_DISTRIBUTED=1 and
DATABASE_URL to the coordinator. Tests run in a transaction rolled back at the end, as elsewhere, but in that
prepared database: pytest-django's own test database would exist on the coordinator alone, and Citus needs
the database, its extensions and its metadata on every node.
"""

from __future__ import annotations

import os

import pytest

from tests.tiles.conftest import decode, tile_dirs, tile_of  # noqa: F401  (tile_dirs is an autouse fixture)

HOW = (
    "tests/distributed needs the Citus clusters: run `make test-distributed` (it builds nothing: if Citus is "
    "missing, build it once with `scripts/ioc-citus build`, see docs/scaling.md)."
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    """Use the database prepared by make test-distributed; stop the run with a clear message when it is not Citus."""
    from gis_ioc import distributed

    if os.environ.get("IOC_DISTRIBUTED") != "1":
        pytest.exit(HOW, returncode=1)
    with django_db_blocker.unblock():
        version = distributed.citus_version()
        if version is None:
            pytest.exit(f"DATABASE_URL is not a Citus coordinator (no citus extension). {HOW}", returncode=1)
        kinds = distributed.table_kinds()
    missing = [t for t in map(distributed.table_of, distributed.DISTRIBUTED) if kinds.get(t) != "distributed"]
    if missing:
        pytest.exit(f"not distributed: {', '.join(missing)}; run manage.py citus_distribute. {HOW}", returncode=1)
