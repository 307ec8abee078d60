"""Open311 GeoReport v2: the specification's field names in JSON and XML, a client's full flow, errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from petitions.models import Petition, Source, Status
from tests.petitions.conftest import inside, jpeg, new_petition

REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def test_a_client_discovers_lists_services_posts_and_follows_its_request(client, district):
    discovery = client.get("/open311/v2/discovery.json").json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert "application/json" in endpoint["formats"] and "text/xml" in endpoint["formats"]
    base = endpoint["url"].replace("http://testserver", "")

    services = client.get(base + "services.json").json()
    assert {s["service_code"] for s in services} >= {"dat_dai", "moi_truong", "giao_thong_ha_tang"}
    assert all(set(s) == SERVICE_FIELDS for s in services)
    code = services[1]["service_code"]
    definition = client.get(f"{base}services/{code}.json").json()
    assert definition == {"service_code": code, "attributes": []}

    point = inside("24937")
    created = client.post(
        base + "requests.json",
        {
            "service_code": code,
            "lat": point.y,
            "long": point.x,
            "description": "Ổ gà lớn giữa đường",
            "first_name": "Hoàng",
            "last_name": "E",
            "phone": "0911222333",
            "email": "e@example.vn",
        },
    )
    assert created.status_code == 201
    [receipt] = created.json()
    assert set(receipt) == {"service_request_id", "token", "service_notice", "account_id", "receipt_secret"}

    [by_token] = client.get(f"{base}tokens/{receipt['token']}.json").json()
    assert by_token["service_request_id"] == receipt["service_request_id"]

    [request] = client.get(f"{base}requests/{by_token['service_request_id']}.json").json()
    assert set(request) == REQUEST_FIELDS
    assert request["status"] == "open" and request["service_code"] == code
    assert abs(request["lat"] - point.y) < 1e-5 and abs(request["long"] - point.x) < 1e-5
    assert request["expected_datetime"] and request["requested_datetime"]
    body = json.dumps(request, ensure_ascii=False)
    assert "0911222333" not in body and "Hoàng" not in body and "e@example.vn" not in body
    petition = Petition.objects.get(tracking_code=receipt["service_request_id"])
    assert petition.source == Source.OPEN311 and petition.reporter_phone == "0911222333"


def test_xml_responses_use_the_specification_element_names(client, district):
    new_petition()
    services = xml(client.get("/open311/v2/services.xml"))
    assert services.tag == "services"
    assert {child.tag for child in services[0]} == SERVICE_FIELDS
    requests = xml(client.get("/open311/v2/requests.xml"))
    assert requests.tag == "service_requests" and requests[0].tag == "request"
    assert {child.tag for child in requests[0]} == REQUEST_FIELDS
    discovery = xml(client.get("/open311/v2/discovery.xml"))
    assert discovery.tag == "discovery" and discovery.find("endpoints/endpoint/url") is not None
    definition = xml(client.get("/open311/v2/services/y_te.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "y_te"


def test_posting_in_xml_returns_an_xml_receipt(client, district):
    point = inside()
    response = client.post(
        "/open311/v2/requests.xml",
        {"service_code": "khac", "lat": point.y, "long": point.x, "description": "Đèn đường hỏng"},
    )
    root = xml(response)
    assert response.status_code == 201
    assert root.tag == "service_requests" and root.find("request/service_request_id").text.startswith("PA-")
    assert root.find("request/token").text


def test_requests_are_filtered_by_status_service_code_and_dates(client, district, agency):
    open_one = new_petition(category="moi_truong")
    closed_one = new_petition(category="dien_nuoc", point=inside("24937"))
    Petition.objects.filter(pk=closed_one.pk).update(status=Status.RESOLVED)
    ids = lambda r: {x["service_request_id"] for x in r.json()}  # noqa: E731
    assert ids(client.get("/open311/v2/requests.json?status=open")) == {open_one.tracking_code}
    assert ids(client.get("/open311/v2/requests.json?status=closed")) == {closed_one.tracking_code}
    assert ids(client.get("/open311/v2/requests.json?service_code=dien_nuoc")) == {closed_one.tracking_code}
    assert (
        ids(client.get("/open311/v2/requests.json?start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z"))
        == set()
    )
    assert ids(client.get(f"/open311/v2/requests.json?service_request_id={closed_one.tracking_code}")) == {
        closed_one.tracking_code
    }
    bad = client.get("/open311/v2/requests.json?start_date=yesterday")
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


def test_an_unknown_service_code_is_a_404_in_the_error_format(client, district):
    point = inside()
    for url, method in (("/open311/v2/services/pizza.json", "get"), ("/open311/v2/requests.json", "post")):
        kwargs = {"service_code": "pizza", "lat": point.y, "long": point.x, "description": "x"}
        response = getattr(client, method)(url, kwargs if method == "post" else None)
        assert response.status_code == 404
        [err] = response.json()
        assert set(err) == {"code", "description"} and "pizza" in err["description"]
    root = xml(client.get("/open311/v2/services/pizza.xml"))
    assert root.tag == "errors" and root.find("error/code").text == "404"
    assert client.get("/open311/v2/requests.json?service_code=pizza").status_code == 400
    assert not Petition.objects.exists()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "lat"),
        ({"lat": "abc", "long": "108.5"}, "lat"),
        ({"lat": "11.8"}, "long"),
        ({"lat": "10.78", "long": "106.70"}, "ngoài huyện"),
        ({"address_string": "nhà số 9, đường không tên"}, "address_string"),
    ],
)
def test_bad_locations_are_400_with_a_message(client, district, data, fragment):
    response = client.post("/open311/v2/requests.json", {"service_code": "khac", "description": "x", **data})
    assert response.status_code == 400
    assert fragment in response.json()[0]["description"]


def test_an_address_naming_a_commune_is_accepted_as_approximate(client, district):
    response = client.post(
        "/open311/v2/requests.json",
        {"service_code": "khac", "description": "Cầu yếu", "address_string": "Thôn Ka Đơn, xã Ka Đơn"},
    )
    assert response.status_code == 201
    petition = Petition.objects.get()
    assert petition.commune_code == "24949" and petition.location_approximate


def test_a_configured_api_key_is_required_to_post(client, district, settings):
    settings.PETITIONS = {**settings.PETITIONS, "open311_api_keys": ["k-123"]}
    point = inside()
    data = {"service_code": "khac", "lat": point.y, "long": point.x, "description": "x"}
    assert client.post("/open311/v2/requests.json", data).status_code == 403
    assert client.post("/open311/v2/requests.json", {**data, "api_key": "k-123"}).status_code == 201


def test_a_script_in_the_description_is_escaped_in_json_and_xml(client, district, leader):
    new_petition(description='<script>alert("x")</script> & đường')
    client.force_login(leader)  # the catalog shows descriptions to staff only
    raw_json = client.get("/open311/v2/requests.json").content.decode()
    assert "<script>" not in raw_json  # Django's JSON encoder escapes < and > as \u003c / \u003e
    assert json.loads(raw_json)[0]["description"].startswith('<script>alert("x")</script>')
    raw_xml = client.get("/open311/v2/requests.xml").content.decode()
    assert "<script>" not in raw_xml and "&lt;script&gt;" in raw_xml
    assert ET.fromstring(raw_xml).findtext("request/description").startswith("<script>")


def test_descriptions_follow_the_catalog_and_are_hidden_from_the_public(client, district):
    new_petition(description="Nhà ông Tư số 12 xả nước thải")
    [row] = client.get("/open311/v2/requests.json").json()
    assert row["description"] is None


def test_media_uploaded_with_a_request_becomes_a_public_media_url(client, district):
    from django.core.files.uploadedfile import SimpleUploadedFile

    point = inside()
    photo = SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")
    response = client.post(
        "/open311/v2/requests.json",
        {"service_code": "khac", "lat": point.y, "long": point.x, "description": "ảnh", "media": photo},
    )
    assert response.status_code == 201
    [row] = client.get(f"/open311/v2/requests/{response.json()[0]['service_request_id']}.json").json()
    assert row["media_url"].startswith("http://testserver/petitions/photos/")
    image = client.get(row["media_url"].replace("http://testserver", ""))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"


def test_the_listing_links_each_request_to_its_own_first_photo(client, district):
    """The listing reads every page's photos in one query: each row must still get its own first photo."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from petitions.models import Attachment

    point = inside()
    photos = [SimpleUploadedFile(f"{n}.jpg", jpeg(), content_type="image/jpeg") for n in ("a", "b")]
    with_photos = client.post(
        "/open311/v2/requests.json",
        {"service_code": "khac", "lat": point.y, "long": point.x, "description": "hai ảnh", "media": photos},
    ).json()[0]["service_request_id"]
    without = client.post(
        "/open311/v2/requests.json",
        {"service_code": "khac", "lat": point.y, "long": point.x, "description": "không ảnh"},
    ).json()[0]["service_request_id"]
    rows = {row["service_request_id"]: row for row in client.get("/open311/v2/requests.json").json()}
    first = Attachment.objects.filter(petition__tracking_code=with_photos).order_by("id").first()
    assert Attachment.objects.filter(petition__tracking_code=with_photos).count() == 2
    assert rows[with_photos]["media_url"] == f"http://testserver/petitions/photos/{first.key}/public.jpg"
    assert rows[without]["media_url"] is None


def test_a_flood_from_one_address_is_throttled_with_429(client, district, settings):
    settings.PETITIONS = {"submit_per_minute": 3, "read_per_minute": 1000}
    point = inside()
    data = {"service_code": "khac", "lat": point.y, "long": point.x, "description": "spam"}
    codes = [client.post("/open311/v2/requests.json", data, REMOTE_ADDR="203.0.113.7").status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    refused = client.post("/open311/v2/requests.json", data, REMOTE_ADDR="203.0.113.7")
    assert refused.json()[0]["code"] == 429 and int(refused["Retry-After"]) > 0
    # Another address is not punished for the flood.
    assert client.post("/open311/v2/requests.json", data, REMOTE_ADDR="203.0.113.8").status_code == 201
    assert Petition.objects.count() == 4


def test_an_oversized_request_is_refused_before_reading(client, district):
    response = client.get("/open311/v2/services.json", CONTENT_LENGTH=str(10 * 1024 * 1024))
    assert response.status_code == 413


def test_listing_requests_costs_a_fixed_number_of_queries(client, district, django_assert_max_num_queries):
    for i in range(12):
        new_petition(point=inside("24931", dx=0.001 * i))
    with django_assert_max_num_queries(7):
        rows = client.get("/open311/v2/requests.json").json()
    assert len(rows) == 12
