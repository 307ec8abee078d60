"""Publishing live events: nothing for a write that rolls back, one event per committed change through the
one change signal (petitions filed through Open311, moved through the workflow, imports), old events pruned."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from live import events
from live.models import LiveEvent
from petitions.models import Petition
from tests.petitions.conftest import inside


def _listener() -> psycopg.Connection:
    """A second connection LISTENing on the live channel, as the stream does."""
    params = {k: v for k, v in connection.get_connection_params().items() if isinstance(v, str | int)}
    listener = psycopg.connect(**params, autocommit=True)
    listener.execute(f"LISTEN {events.CHANNEL}")
    return listener


@pytest.mark.django_db(transaction=True)
def test_a_write_that_rolls_back_publishes_nothing() -> None:
    listener = _listener()
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("test.rolled_back", {}, layer_slugs=["petitions"], commune_code="24931")
            raise RuntimeError("the write fails after publishing")
        kept = events.publish("test.committed", {}, layer_slugs=["petitions"], commune_code="24931")
        # Notifications arrive in commit order: had the rolled-back one been sent, it would come first.
        [first] = list(listener.notifies(timeout=10, stop_after=1))
    finally:
        listener.close()
    assert first.payload == str(kept.pk)
    assert list(LiveEvent.objects.values_list("kind", flat=True)) == ["test.committed"]


def test_an_event_needs_a_kind_a_layer_and_someone_to_reach(db) -> None:
    with pytest.raises(events.PublishError):
        events.publish("", {}, layer_slugs=["petitions"], commune_code=None)
    with pytest.raises(events.PublishError):
        events.publish("x", {}, layer_slugs=[], commune_code=None)
    with pytest.raises(events.PublishError):  # named recipients, but none: a mistake, not a broadcast
        events.publish("x", {}, layer_slugs=["petitions"], commune_code=None, user_ids=[])
    assert not LiveEvent.objects.exists()


def test_a_petition_filed_through_open311_is_published_in_its_commune(
    client, district, django_capture_on_commit_callbacks
) -> None:
    point = inside("24937")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/open311/v2/requests.json",
            {"service_code": "moi_truong", "lat": point.y, "long": point.x, "description": "Rác bên suối"},
        )
    assert response.status_code == 201
    petition = Petition.objects.get(tracking_code=response.json()[0]["service_request_id"])
    [event] = LiveEvent.objects.all()
    assert event.kind == "data.changed" and event.commune_code == "24937"
    assert "petitions" in event.layer_slugs
    [feature] = event.payload["features"]
    assert feature["id"] == petition.pk and feature["properties"]["status"] == petition.status
    assert "petitions_received" in event.payload["statistics"]
    assert event.geom.distance(point) < 1e-9


def test_a_petition_moved_through_the_workflow_is_published(
    district, leader, django_capture_on_commit_callbacks
) -> None:
    from petitions import workflow
    from tests.petitions.conftest import new_petition

    petition = new_petition(point=inside("24931"))
    LiveEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.transition(petition.pk, "verify", leader)
    [event] = LiveEvent.objects.all()
    assert event.commune_code == "24931"
    assert event.payload["features"][0]["properties"]["status"] == Petition.objects.get(pk=petition.pk).status


def test_an_import_is_published_as_a_change_of_the_whole_layer(
    district, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    from tests.layers import import_files as files

    path = tmp_path / "xa.geojson"
    files.communes().head(2).to_file(path, driver="GeoJSON")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_layer", str(path), "--target", "new:xa-live", stdout=io.StringIO(), stderr=io.StringIO())
    [event] = LiveEvent.objects.filter(layer_slugs__contains=["xa-live"])
    assert event.commune_code is None and "features" not in event.payload


def test_events_older_than_the_retention_are_pruned(db, settings) -> None:
    settings.IOC_LIVE_RETENTION_HOURS = 24
    old = events.publish("test.old", {}, layer_slugs=["petitions"], commune_code=None)
    LiveEvent.objects.filter(pk=old.pk).update(at=old.at - dt.timedelta(hours=25))
    new = events.publish("test.new", {}, layer_slugs=["petitions"], commune_code=None)
    assert events.prune() == 1
    assert list(LiveEvent.objects.values_list("pk", flat=True)) == [new.pk]


def test_a_feature_moved_to_another_commune_is_announced_in_both_without_its_fields_in_the_old_one(
    client, district, gis_staff, django_capture_on_commit_callbacks
) -> None:
    import json

    from tests.factories import SchoolFactory, point_in

    school = SchoolFactory(name="Trường THCS Ka Đô", pupils=480, in_commune="24943")
    LiveEvent.objects.all().delete()
    client.force_login(gis_staff)
    moved = point_in("24934", 3)
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [moved.x, moved.y]}, "properties": {}}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/layers/schools/features/{school.pk}/", json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 200, response.content
    events_by_commune = {e.commune_code: e for e in LiveEvent.objects.all()}
    assert set(events_by_commune) == {"24943", "24934"}
    # The old commune learns that its school changed (it left), not what it became or where it is now.
    old = events_by_commune["24943"]
    assert old.payload["features"] == [{"id": school.pk, "layers": ["schools"], "properties": {}}] and old.geom is None
    new = events_by_commune["24934"]
    assert new.payload["features"][0]["properties"]["name"] == "Trường THCS Ka Đô"
    assert new.geom.distance(moved) < 1e-9
