"""/field/api/my-reports/: an officer gets his own reports, never another officer's."""

from __future__ import annotations

import uuid

from django.contrib.gis.geos import Point

from petitions.models import FieldReport
from tests.conftest import make_user


def test_an_officer_lists_only_his_own_reports(client, district):
    me, other = make_user("me", "field_officer"), make_user("other", "field_officer")
    for officer, note in ((me, "của tôi"), (other, "của người khác")):
        FieldReport.objects.create(
            client_uuid=uuid.uuid4(), content_hash="x", officer=officer, geom=Point(108.5, 11.8, srid=4326),
            accuracy_m=5, note=note, captured_at="2026-01-02T03:04:05+07:00",
        )  # fmt: skip
    client.force_login(me)
    notes = [r["note"] for r in client.get("/field/api/my-reports/").json()["results"]]
    assert notes == ["của tôi"]
    client.logout()
    assert client.get("/field/api/my-reports/").status_code in (302, 401, 403)
