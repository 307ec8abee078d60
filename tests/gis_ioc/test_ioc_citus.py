"""Without Citus, scripts/ioc-citus and tests/distributed stop with a message saying how to build it.

`make test-distributed` runs the Citus checks; these two make sure a machine without Citus never sees them
pass silently. Neither builds nor starts a cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_starting_citus_where_it_is_not_built_fails_naming_the_build_command(tmp_path):
    # A pg_config whose extension folders hold no citus: what a fresh machine has.
    for folder in ("share/extension", "lib"):
        (tmp_path / folder).mkdir(parents=True)
    fake = tmp_path / "pg_config"
    fake.write_text(
        f'#!/bin/sh\ncase "$1" in --sharedir) echo {tmp_path}/share;; --pkglibdir) echo {tmp_path}/lib;; esac\n'
    )
    fake.chmod(0o755)
    result = subprocess.run(
        [ROOT / "scripts" / "ioc-citus", "start"],
        env={**os.environ, "PG_CONFIG": str(fake)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "Citus is not installed" in result.stderr and "scripts/ioc-citus build" in result.stderr
    assert "CITUS_SRC" in result.stderr


def test_the_distributed_tests_refuse_a_database_without_citus(db):
    settings = connection.settings_dict
    url = f"postgresql://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/distributed"],
        cwd=ROOT,
        env={**os.environ, "IOC_DISTRIBUTED": "1", "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "not a Citus coordinator" in result.stdout and "make test-distributed" in result.stdout
