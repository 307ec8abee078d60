"""The live stream as a browser's EventSource sees it: events arrive live, a resumed connection gets exactly
what it missed, and each person receives only what the policy lets him see (layers, communes, fields)."""

from __future__ import annotations

from typing import Any

import pytest

from gis_ioc import roles
from gis_ioc.models import ApiToken
from live import events
from tests.conftest import make_user
from tests.live.conftest import Stream, open_stream
from tests.petitions.conftest import inside


def _connect(stream_server: str, streams: list[Stream], user: Any, last_event_id: int | None = None) -> Stream:
    stream = open_stream(stream_server, ApiToken.issue(user, "live").key, last_event_id)
    streams.append(stream)
    return stream


def test_a_petition_filed_through_open311_reaches_an_open_stream(stream_server, streams, district, client) -> None:
    leader = make_user("leader", roles.LEADER)
    stream = _connect(stream_server, streams, leader)
    hello = stream.next()
    assert hello["event"] == "hello"
    point = inside("24937")
    response = client.post(
        "/open311/v2/requests.json",
        {"service_code": "moi_truong", "lat": point.y, "long": point.x, "description": "Cây đổ chắn đường"},
    )
    assert response.status_code == 201
    event = stream.next()
    assert int(event["id"]) > int(hello["id"])
    data = event["data"]
    assert data["kind"] == "data.changed" and data["commune"] == "24937" and "petitions" in data["layers"]
    [feature] = data["payload"]["features"]
    assert feature["properties"]["tracking_code"] == response.json()[0]["service_request_id"]
    assert data["geometry"]["type"] == "Point"


def test_a_resumed_connection_gets_exactly_the_events_it_missed(stream_server, streams, district) -> None:
    leader = make_user("leader", roles.LEADER)
    seen = events.publish("test.one", {}, layer_slugs=["petitions"], commune_code="24931")
    missed = [events.publish(f"test.{n}", {"n": n}, layer_slugs=["petitions"], commune_code="24931") for n in (2, 3)]
    stream = _connect(stream_server, streams, leader, last_event_id=seen.pk)
    replayed = [stream.next(), stream.next()]
    assert [int(e["id"]) for e in replayed] == [e.pk for e in missed]
    assert [e["data"]["payload"]["n"] for e in replayed] == [2, 3]
    assert stream.next()["event"] == "hello"  # replay done: live from here
    later = events.publish("test.4", {}, layer_slugs=["petitions"], commune_code="24931")
    assert int(stream.next()["id"]) == later.pk  # not a replayed one again


def test_a_resume_from_before_the_kept_events_is_told_to_reload(stream_server, streams, district) -> None:
    leader = make_user("leader", roles.LEADER)
    first = events.publish("test.pruned", {}, layer_slugs=["petitions"], commune_code="24931")
    events.publish("test.kept", {}, layer_slugs=["petitions"], commune_code="24931")
    type(first).objects.filter(pk__lte=first.pk).delete()  # as the retention job does (all older ones too)
    stream = _connect(stream_server, streams, leader, last_event_id=first.pk - 1)
    assert stream.next()["event"] == "reset"


def test_a_scoped_officer_never_receives_another_communes_events(stream_server, streams, district) -> None:
    officer = make_user("scoped_officer", roles.FIELD_OFFICER, communes=["24931", "24937"])
    leader = make_user("leader", roles.LEADER)
    officer_stream, leader_stream = _connect(stream_server, streams, officer), _connect(stream_server, streams, leader)
    officer_stream.next(), leader_stream.next()  # hello
    other = events.publish("test.other", {}, layer_slugs=["petitions"], commune_code="24925")
    whole = events.publish("test.whole_layer", {}, layer_slugs=["petitions"], commune_code=None)
    own = events.publish("test.own", {}, layer_slugs=["petitions"], commune_code="24937")
    # Events arrive in id order: the officer's first one is his commune's, the two before were withheld.
    assert int(officer_stream.next()["id"]) == own.pk
    assert [int(leader_stream.next()["id"]) for _ in range(3)] == [other.pk, whole.pk, own.pk]


def test_a_person_is_sent_only_the_layers_and_fields_he_may_see(stream_server, streams, district) -> None:
    officer = make_user("field_officer", roles.FIELD_OFFICER)
    leader = make_user("leader", roles.LEADER)
    officer_stream, leader_stream = _connect(stream_server, streams, officer), _connect(stream_server, streams, leader)
    officer_stream.next(), leader_stream.next()
    hidden = events.publish("test.revenue", {}, layer_slugs=["budget-revenue"], commune_code="24931")
    feature = {"id": 7, "properties": {"status": "received", "reporter_name": "Nguyễn Văn A"}}
    both = events.publish(
        "test.both",
        {"layers": {"petitions": 3, "budget-revenue": 9}, "features": [feature]},
        layer_slugs=["petitions", "budget-revenue"],
        commune_code="24931",
    )
    officer_event = officer_stream.next()["data"]
    assert officer_event["id"] == both.pk  # the revenue-only event was withheld
    assert officer_event["layers"] == ["petitions"] and officer_event["payload"]["layers"] == {"petitions": 3}
    assert officer_event["payload"]["features"] == [{"id": 7, "properties": {"status": "received"}}]
    assert leader_stream.next()["data"]["id"] == hidden.pk
    leader_event = leader_stream.next()["data"]
    assert leader_event["payload"]["features"][0]["properties"]["reporter_name"] == "Nguyễn Văn A"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "９", "1" * 30])
def test_a_malformed_last_event_id_is_a_400_with_a_message(client, leader, value) -> None:
    client.force_login(leader)
    response = client.get("/live/events", headers={"Last-Event-ID": value})
    assert response.status_code == 400 and "Last-Event-ID" in response.json()["detail"]
    response = client.get("/live/events", {"last_event_id": value})
    assert response.status_code == 400


def test_anonymous_visitors_are_refused(client) -> None:
    response = client.get("/live/events")
    assert response.status_code == 401 and "đăng nhập" in response.json()["detail"]
    assert "Sign in" in client.get("/live/events?lang=en").json()["detail"]


def test_the_page_server_does_not_hold_a_worker_for_a_stream(client, leader) -> None:
    client.force_login(leader)
    response = client.get("/live/events")  # the WSGI handler, as under gunicorn
    assert response.status_code == 404 and "uvicorn" in response.json()["detail"]
    # A browser's EventSource is told "no stream here" (204: it stops retrying) and the page polls.
    assert client.get("/live/events", headers={"Accept": "text/event-stream"}).status_code == 204


def test_an_event_committed_while_the_stream_lost_its_database_connection_is_still_delivered(
    stream_server, streams, district
) -> None:
    from django.db import connection

    leader = make_user("leader", roles.LEADER)
    stream = _connect(stream_server, streams, leader)
    stream.next()  # hello
    with connection.cursor() as cursor:  # what a database restart does to the stream's LISTEN connection
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query = %s",
            [f"LISTEN {events.CHANNEL}"],
        )
        assert cursor.fetchone()[0] == 1
    missed = events.publish("test.while_down", {}, layer_slugs=["petitions"], commune_code="24931")
    assert int(stream.next()["id"]) == missed.pk  # read by id when the stream reconnected
