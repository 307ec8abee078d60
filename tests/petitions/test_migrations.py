"""The receipt and photo-key migrations give every existing row its own secret digest and photo key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.petitions.conftest import new_petition

pytestmark = pytest.mark.django_db


def _migrate(target: str) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("petitions", target)])


def test_existing_petitions_and_photos_get_their_own_secrets(district):
    with connection.cursor() as cursor:
        petitions = [new_petition().pk for _i in range(3)]
        # Rows written in this test's transaction hold deferred foreign-key checks, which would block ALTER
        # TABLE; a real deployment migrates committed rows.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _migrate("0003_token_unique")
        for pk in petitions:
            cursor.execute(
                "INSERT INTO petitions_attachment (petition_id, original, public, thumbnail, content_type, size,"
                " width, height, sha256, created_at) VALUES (%s, 'o', 'p', 't', 'image/jpeg', 1, 1, 1, '', now())",
                [pk],
            )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        _migrate("0005_attachment_key")
        cursor.execute("SELECT count(DISTINCT receipt_hash), count(*) FROM petitions_petition")
        assert cursor.fetchone() == (3, 3)
        cursor.execute("SELECT count(DISTINCT key), count(*) FROM petitions_attachment WHERE key IS NOT NULL")
        assert cursor.fetchone() == (3, 3)
