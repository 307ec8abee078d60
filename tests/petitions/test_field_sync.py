"""Field report sync: idempotent by the phone's UUID, GPS accuracy enforced, verification on site."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from petitions.models import Attachment, FieldReport, Status
from tests.petitions.conftest import inside, jpeg, new_petition


def report(**overrides):
    here = inside()
    data = {
        "uuid": str(uuid.uuid4()),
        "lat": f"{here.y:.7f}",
        "lon": f"{here.x:.7f}",
        "accuracy": "8.5",
        "note": "Đã kiểm tra",
        "outcome": "",
        "petition": "",
        "captured_at": "2025-06-01T08:30:00+07:00",
    }
    data.update(overrides)
    return data


def test_a_replayed_sync_returns_the_stored_report(client, district, field_officer):
    client.force_login(field_officer)
    data = report()
    first = client.post("/field/api/reports/", data)
    assert first.status_code == 201 and first.json()["created"] is True
    replay = client.post("/field/api/reports/", data)
    assert replay.status_code == 200 and replay.json()["created"] is False
    assert replay.json()["id"] == first.json()["id"]
    assert FieldReport.objects.count() == 1


def test_the_same_uuid_with_other_content_is_a_conflict(client, district, field_officer):
    client.force_login(field_officer)
    data = report()
    assert client.post("/field/api/reports/", data).status_code == 201
    changed = client.post("/field/api/reports/", {**data, "note": "Nội dung khác"})
    assert changed.status_code == 409 and "mã mới" in changed.json()["error"]
    assert FieldReport.objects.get().note == "Đã kiểm tra"


def test_photos_are_part_of_the_content_and_stored_once(client, district, field_officer):
    client.force_login(field_officer)
    data = report()
    photo = jpeg()
    for _ in range(2):
        response = client.post("/field/api/reports/", {**data, "photos": SimpleUploadedFile("p.jpg", photo)})
        assert response.status_code in (200, 201)
    assert Attachment.objects.count() == 1
    other_photo = client.post(
        "/field/api/reports/", {**data, "photos": SimpleUploadedFile("p.jpg", jpeg(color=(0, 0, 0)))}
    )
    assert other_photo.status_code == 409


def test_gps_accuracy_is_refused_above_the_threshold(client, district, field_officer, settings):
    settings.PETITIONS = {**settings.PETITIONS, "max_accuracy_m": 50}
    client.force_login(field_officer)
    response = client.post("/field/api/reports/", report(accuracy="120"))
    assert (
        response.status_code == 400 and response.json()["field"] == "accuracy" and "±120 m" in response.json()["error"]
    )
    assert client.post("/field/api/reports/", report(accuracy="")).status_code == 400
    assert client.post("/field/api/reports/", report(accuracy="49")).status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lat": ""}, "lat"),
        ({"lon": "abc"}, "lon"),
        ({"uuid": "not-a-uuid"}, "uuid"),
        ({"captured_at": "hôm qua"}, "captured_at"),
        ({"lat": "10.78", "lon": "106.7"}, "location"),
    ],
)
def test_bad_reports_are_refused_with_the_field_named(client, district, field_officer, overrides, field):
    client.force_login(field_officer)
    response = client.post("/field/api/reports/", report(**overrides))
    assert response.status_code == 400 and response.json()["field"] == field
    assert not FieldReport.objects.exists()


def test_only_field_officers_sync_and_only_when_signed_in(client, district, planner):
    assert client.post("/field/api/reports/", report()).status_code == 401
    client.force_login(planner)
    assert client.post("/field/api/reports/", report()).status_code == 403


def test_a_report_verifies_the_petition_on_site(client, district, field_officer):
    petition = new_petition()
    client.force_login(field_officer)
    response = client.post("/field/api/reports/", report(petition=petition.tracking_code, outcome="verified"))
    assert response.status_code == 201 and response.json()["transition_error"] is None
    petition.refresh_from_db()
    assert petition.status == Status.VERIFIED
    event = petition.events.get(action="verify")
    assert event.actor == field_officer and event.note == "Đã kiểm tra"


def test_a_scoped_officer_cannot_report_on_another_communes_petition(client, district, scoped_officer):
    petition = new_petition(point=inside("24949"))
    client.force_login(scoped_officer)
    response = client.post("/field/api/reports/", report(petition=petition.tracking_code, outcome="verified"))
    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.status == Status.RECEIVED


def test_assigned_petitions_come_nearest_first_and_only_in_scope(client, district, scoped_officer):
    near = new_petition(point=inside("24931"))
    new_petition(point=inside("24949"))
    far_in_scope = new_petition(point=inside("24937"))
    client.force_login(scoped_officer)
    rows = client.get("/field/api/assigned/", {"lat": near.geom.y, "lon": near.geom.x}).json()["results"]
    assert [r["tracking_code"] for r in rows] == [near.tracking_code, far_in_scope.tracking_code]
    assert rows[0]["distance_m"] == 0 and rows[0]["reporter_phone"] is None


def test_the_app_shell_manifest_and_worker_are_served(client, district, field_officer):
    assert client.get("/field/").status_code == 302  # sign in first
    client.force_login(field_officer)
    shell = client.get("/field/").content.decode()
    assert 'rel="manifest"' in shell and "field.js" in shell
    manifest = client.get("/field/manifest.webmanifest").json()
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone"
    worker = client.get("/field/sw.js")
    assert (
        worker["Content-Type"].startswith("text/javascript")
        and "/field/api/communes.geojson" in worker.content.decode()
    )


def test_captured_time_is_kept(client, district, field_officer):
    client.force_login(field_officer)
    client.post("/field/api/reports/", report(captured_at="2025-06-01T08:30:00+07:00"))
    assert FieldReport.objects.get().captured_at == dt.datetime(2025, 6, 1, 1, 30, tzinfo=dt.UTC)
