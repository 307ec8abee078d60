"""The SensorThings API (/sta/v1.1/, issue 19 item 1): a real client's flow (FROST's Python client creates a
station with its location and datastream, posts observations, reads them back with $filter and $expand),
the query options, ingestion by batch and CSV (idempotent, nothing half-written), and the policy."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from gis_ioc import roles
from gis_ioc.models import ApiToken
from layers.models import Layer
from sensors import demo
from sensors.models import Datastream, Observation, ObservedProperty, Sensor, Thing
from tests.conftest import make_user
from tests.factories import point_in

pytestmark = pytest.mark.django_db
STA = "/sta/v1.1"


@pytest.fixture
def officer(district):
    """An agency officer (the environment office) who writes with an API token."""
    user = make_user("moi-truong", roles.AGENCY_STAFF)
    return user, ApiToken.issue(user, "trạm tự động").key


@pytest.fixture
def stream(district) -> Datastream:
    ph = ObservedProperty.objects.create(name="pH", code="ph", min_value=0, max_value=14)
    sensor = Sensor.objects.create(name="Đầu đo pH")
    thing = Thing.objects.create(name="Trạm sông Đa Nhim", kind="nuoc", geom=point_in("24931", 1))
    return Datastream.objects.create(thing=thing, sensor=sensor, observed_property=ph, name="pH sông",
                                     unit_name="pH", unit_symbol="pH")  # fmt: skip


def _post(client: Client, path: str, body, key: str, **extra):
    return client.post(STA + path, json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {key}", **extra)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_sensorthings_client_creates_a_station_posts_and_queries_observations(live_server, officer):
    import frost_sta_client as fsc
    import geojson

    user, key = officer
    service = fsc.SensorThingsService(f"{live_server.url}{STA}", auth_handler=fsc.AuthHandler(user.username, key))
    location = fsc.Location(name="Cầu Thạnh Mỹ", description="bờ trái", encoding_type="application/geo+json",
                            location=geojson.Point((108.4895, 11.7690)))  # fmt: skip
    thing = fsc.Thing(name="Trạm sông Đa Nhim", description="chất lượng nước", properties={"kind": "nuoc"},
                      locations=[location])  # fmt: skip
    service.create(thing)
    assert thing.id is not None and Thing.objects.get(pk=thing.id).commune_code == "24931"
    stream = fsc.Datastream(
        name="Nhiệt độ nước", description="mỗi giờ", observation_type="OM_Measurement",
        unit_of_measurement=fsc.UnitOfMeasurement(name="độ C", symbol="°C", definition=""),
        thing=thing, sensor=fsc.Sensor(name="Đầu đo nhiệt", description="", encoding_type="text/html", metadata=""),
        observed_property=fsc.ObservedProperty(name="Nhiệt độ nước", definition="water_temperature", description=""),
    )  # fmt: skip
    service.create(stream)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=5)
    for h, value in enumerate([21.0, 21.4, 22.1, 23.0, 22.6]):
        service.create(fsc.Observation(result=value, phenomenon_time=(start + dt.timedelta(hours=h)).isoformat(),
                                       datastream=stream))  # fmt: skip
    warm = service.observations().query().filter(f"result gt 22 and Datastream/id eq {stream.id}").list()
    assert sorted(o.result for o in warm) == [22.1, 22.6, 23.0]
    found = service.things().query().filter(f"id eq {thing.id}").expand("Datastreams($expand=ObservedProperty)").list()
    assert [d.name for d in found.entities[0].datastreams] == ["Nhiệt độ nước"]
    newest = service.datastreams().find(stream.id).get_observations().query().orderby("phenomenonTime", "desc").top(
        2).list()  # fmt: skip
    assert [o.result for o in newest.entities] == [22.6, 23.0]  # the first page; iterating follows nextLink


def test_query_options_and_paging(stream, client):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=30)
    Observation.objects.bulk_create(
        Observation(datastream=stream, phenomenon_time=start + dt.timedelta(hours=h), result=7 + h / 100,
                    commune_id=stream.thing.commune_id, commune_code=stream.thing.commune_code)
        for h in range(25)
    )  # fmt: skip
    page = client.get(f"{STA}/Datastreams({stream.pk})/Observations",
                      {"$top": 10, "$count": "true", "$orderby": "phenomenonTime desc"}).json()  # fmt: skip
    assert page["@iot.count"] == 25 and len(page["value"]) == 10
    assert page["value"][0]["result"] == pytest.approx(7.24)
    rest = client.get(page["@iot.nextLink"].replace("http://testserver", "")).json()
    assert rest["value"][0]["result"] == pytest.approx(7.14)
    chosen = client.get(f"{STA}/Observations", {"$filter": "result ge 7.2", "$select": "result"}).json()["value"]
    assert len(chosen) == 5 and set(chosen[0]) == {"@iot.id", "@iot.selfLink", "result"}
    thing = client.get(f"{STA}/Things({stream.thing_id})",
                       {"$expand": "Datastreams/Observations($top=1;$orderby=phenomenonTime desc)"}).json()  # fmt: skip
    assert thing["Datastreams"][0]["Observations"][0]["result"] == pytest.approx(7.24)
    assert thing["Datastreams"][0]["unitOfMeasurement"]["symbol"] == "pH"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"$filter": "result gtt 7"}, "$filter"),
        ({"$filter": "nosuch eq 1"}, "nosuch"),
        ({"$filter": "(" * 400 + "result eq 1" + ")" * 400}, "$filter"),
        ({"$top": "100001"}, "$top"),
        ({"$top": "-1"}, "$top"),
        ({"$expand": "Nope"}, "Nope"),
        ({"$expand": "Datastream("}, "ngoặc"),
        ({"$orderby": "result sideways"}, "$orderby"),
        ({"$select": "secret"}, "secret"),
        ({"$count": "maybe"}, "$count"),
        ({"$format": "xml"}, "$format"),
    ],
)
def test_a_bad_query_option_is_a_400_naming_it(stream, client, query, words):
    answer = client.get(f"{STA}/Observations", query)
    assert answer.status_code == 400
    assert words in answer.json()["message"]


def test_observations_are_stored_once_per_time_and_a_bad_batch_writes_nothing(stream, officer, client):
    _user, key = officer
    t0 = (timezone.now() - dt.timedelta(hours=3)).replace(microsecond=0).isoformat()
    t1 = (timezone.now() - dt.timedelta(hours=2)).replace(microsecond=0).isoformat()
    one = {"phenomenonTime": t0, "result": 7.1, "Datastream": {"@iot.id": stream.pk}}
    assert _post(client, "/Observations", one, key).status_code == 201
    again = _post(client, "/Observations", one, key)
    assert again.status_code == 200 and Observation.objects.count() == 1  # idempotent: the same row
    other = _post(client, "/Observations", one | {"result": 8.0}, key)
    assert other.status_code == 409 and "7.1" in other.json()["message"]
    batch = [{"Datastream": {"@iot.id": stream.pk}, "components": ["phenomenonTime", "result"],
              "dataArray": [[t0, 7.1], [t1, 7.3]]}]  # fmt: skip
    answer = _post(client, "/CreateObservations", batch, key)
    assert answer.status_code == 201 and answer.json()[1] == "exists"
    assert Observation.objects.count() == 2
    bad_batches = {
        "trùng thời điểm": [[t1, 7.0], [t1, 7.2]],
        "ngoài khoảng hợp lý": [[t1, 19.5]],
        "không phải là số": [[t1, "bảy"]],
        "ISO 8601": [["hôm qua", 7.0]],
    }
    for words, rows in bad_batches.items():
        answer = _post(client, "/CreateObservations", [batch[0] | {"dataArray": rows}], key)
        assert answer.status_code == 400 and words in answer.json()["message"], words
    mismatched = [{"Datastream": {"@iot.id": stream.pk}, "components": ["phenomenonTime", "result", "unit"],
                   "dataArray": [[t1, 7.0, "mg/L"]]}]  # fmt: skip
    answer = _post(client, "/CreateObservations", mismatched, key)
    assert answer.status_code == 400 and "mg/L" in answer.json()["message"]
    unknown = [batch[0] | {"Datastream": {"@iot.id": 999999}}]
    assert _post(client, "/CreateObservations", unknown, key).status_code == 404
    assert Observation.objects.count() == 2  # nothing of the refused batches was written


def test_a_csv_file_is_stored_whole_or_refused_naming_its_line(stream, officer, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    _user, key = officer
    t = [(timezone.now() - dt.timedelta(hours=h)).replace(microsecond=0).isoformat() for h in (3, 2, 1)]
    good = f"datastream,phenomenon_time,result,unit\n{stream.pk},{t[0]},7.0,pH\n{stream.pk},{t[1]},7.2,pH\n"
    upload = SimpleUploadedFile("song-da-nhim.csv", good.encode())
    answer = client.post("/api/v1/observations/csv", {"file": upload}, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 201 and answer.json() == {"stored": 2, "already_stored": 0}
    bad = good + f"{stream.pk},{t[2]},7;4,pH\n"
    upload = SimpleUploadedFile("song-da-nhim.csv", bad.encode())
    answer = client.post("/api/v1/observations/csv", {"file": upload}, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 400 and "song-da-nhim.csv dòng 4" in answer.json()["message"]
    assert Observation.objects.count() == 2
    legacy = SimpleUploadedFile("cu.csv", b"datastream,phenomenon_time,result\n" + b"\xff\xfe")
    answer = client.post("/api/v1/observations/csv", {"file": legacy}, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 400 and "UTF-8" in answer.json()["message"]


def test_writing_needs_the_stations_edit_role_and_the_communes_scope(stream, client, district):
    t0 = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
    one = {"phenomenonTime": t0, "result": 7.1, "Datastream": {"@iot.id": stream.pk}}
    assert client.post(f"{STA}/Observations", json.dumps(one), content_type="application/json").status_code == 401
    planner = make_user("quy-hoach", roles.PLANNER)
    assert _post(client, "/Observations", one, ApiToken.issue(planner, "x").key).status_code == 403
    elsewhere = make_user("ka-do", roles.AGENCY_STAFF, communes=["24943"])
    assert _post(client, "/Observations", one, ApiToken.issue(elsewhere, "x").key).status_code == 404
    assert not Observation.objects.exists()


def test_a_station_outside_the_district_or_without_a_location_is_refused(officer, client):
    _user, key = officer
    laos = {"type": "Point", "coordinates": [100.0, 20.0]}
    place = {"name": "x", "encodingType": "application/geo+json", "location": laos}
    outside = {"name": "Trạm lạc", "Locations": [place]}
    answer = _post(client, "/Things", outside, key)
    assert answer.status_code == 400 and "ngoài mọi xã" in answer.json()["message"]
    assert _post(client, "/Things", {"name": "Trạm không vị trí"}, key).status_code == 400
    assert not Thing.objects.exists()


def test_a_private_station_layer_and_a_scoped_officer_see_only_what_they_may(stream, client, district):
    other = Thing.objects.create(name="Trạm Ka Đô", kind="nuoc", geom=point_in("24943", 2))
    assert {t["name"] for t in client.get(f"{STA}/Things").json()["value"]} == {"Trạm sông Đa Nhim", "Trạm Ka Đô"}
    scoped = make_user("thanh-my", roles.FIELD_OFFICER, communes=["24931"])
    scoped_client = Client()
    scoped_client.force_login(scoped)
    assert [t["name"] for t in scoped_client.get(f"{STA}/Things").json()["value"]] == ["Trạm sông Đa Nhim"]
    assert scoped_client.get(f"{STA}/Things({other.pk})").status_code == 404
    Layer.objects.filter(slug="monitoring-stations").update(visibility="staff")
    assert client.get(f"{STA}/Things").json()["value"] == []
    assert client.get(f"{STA}/Datastreams({stream.pk})").status_code == 404


def test_the_demo_network_has_two_years_of_hourly_data_with_the_rainy_season(district):
    import io

    demo.load(io.StringIO())
    rain = Datastream.objects.filter(observed_property__code="rain").first()
    assert Observation.objects.filter(datastream=rain).count() == demo.HOURS
    wet = Observation.objects.filter(datastream=rain, phenomenon_time__month__in=[7, 8, 9])
    dry = Observation.objects.filter(datastream=rain, phenomenon_time__month__in=[1, 2, 3])
    assert sum(o.result for o in wet) > 2 * sum(o.result for o in dry)
    assert Thing.objects.filter(is_demo=True).count() == len(demo.STATIONS)
    assert not Thing.objects.filter(geom__intersects=Point(0, 0, srid=4326)).exists()


def test_a_threshold_rule_on_an_environment_statistic_raises_an_alert(officer, client, district):
    """Observations posted through SensorThings reach the alert rules: PM2.5 above 50 µg/m³ in a day."""
    from alerts.evaluate import evaluate_rules
    from tests.alerts.conftest import make_rule

    pm = ObservedProperty.objects.create(name="Bụi PM2.5", code="pm25", min_value=0, max_value=1000)
    thing = Thing.objects.create(name="Không khí Thạnh Mỹ", kind="khong_khi", geom=point_in("24931", 4))
    stream = Datastream.objects.create(thing=thing, sensor=Sensor.objects.create(name="PM"), observed_property=pm,
                                       name="PM2.5", unit_name="µg/m³", unit_symbol="µg/m³")  # fmt: skip
    rule = make_rule(kind="threshold", statistic="pm25_avg", period="day", operator="ge", value=50)
    _user, key = officer
    # Two morning hours of one local day, that day evaluated (an hour ago can be yesterday just after midnight).
    day = timezone.localdate() - dt.timedelta(days=1)
    hours = [timezone.make_aware(dt.datetime.combine(day, dt.time(h))) for h in (9, 10)]
    batch = [{"Datastream": {"@iot.id": stream.pk}, "components": ["phenomenonTime", "result"],
              "dataArray": [[h.isoformat(), 80.0] for h in hours]}]  # fmt: skip
    assert _post(client, "/CreateObservations", batch, key).status_code == 201
    raised = evaluate_rules(today=day, rules=[rule])
    assert [(a.commune_code, round(a.value)) for a in raised] == [("24931", 80)]


def test_a_signed_in_browser_writes_only_with_its_csrf_token(stream, officer):
    user, _key = officer
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    t0 = (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
    body = json.dumps({"phenomenonTime": t0, "result": 7.0, "Datastream": {"@iot.id": stream.pk}})
    answer = browser.post(f"{STA}/Observations", body, content_type="application/json")
    assert answer.status_code == 403 and "CSRF" in answer.json()["message"]
    assert not Observation.objects.exists()
