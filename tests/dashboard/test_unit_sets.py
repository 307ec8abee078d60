"""The dashboard on any unit set, as of any date: the set switch, the scope on old sets, clear errors."""

from __future__ import annotations

import pytest

from gis_ioc.demo.facts import DISTRICT
from tests.conftest import make_user
from tests.dashboard.conftest import YEAR_RANGE, client_for

pytestmark = pytest.mark.django_db
OLD = "commune-2009-01-01"
AREA = f"area-{DISTRICT[0]}"  # the former Đơn Dương district, a statistical area since 2025-07-01
VIEW = {"stat": "petitions_received", **YEAR_RANGE}


def codes(fc: dict) -> set[str]:
    return {f["properties"]["code"] for f in fc["features"]}


def test_the_old_communes_are_one_switch_away_with_their_own_boundaries(demo, leader_client):
    page = leader_client.get("/", {"units": OLD})
    assert page.status_code == 200
    assert len(codes(page.context["communes_geojson"])) == 10 and "24946" in codes(page.context["communes_geojson"])
    html = page.content.decode()
    assert f'<option value="{OLD}" selected>' in html and f'value="{AREA}"' in html
    view = leader_client.get("/dashboard/api/view", {**VIEW, "units": OLD}).json()
    assert view["units"] == OLD and "24946" in view["choropleth"]["values"]
    # The whole territory is the same, whichever units it is cut into.
    today = leader_client.get("/dashboard/api/view", VIEW).json()
    assert view["choropleth"]["district"] == today["choropleth"]["district"]
    assert codes(leader_client.get("/dashboard/api/communes", {"units": OLD}).json()) == set(
        view["choropleth"]["values"]
    )


def test_as_of_picks_the_units_in_force_that_day(demo, leader_client):
    before = leader_client.get("/dashboard/api/view", {**VIEW, "as_of": "2024-06-30"}).json()
    after = leader_client.get("/dashboard/api/view", {**VIEW, "as_of": "2025-06-30"}).json()
    assert before["units"] == OLD and len(before["choropleth"]["values"]) == 10
    assert after["units"] == "commune-2025-01-01" and len(after["choropleth"]["values"]) == 9


def test_the_former_district_is_a_statistical_area_with_the_whole_territorys_figures(demo, leader_client):
    area = leader_client.get("/dashboard/api/view", {**VIEW, "units": AREA}).json()
    today = leader_client.get("/dashboard/api/view", VIEW).json()
    assert list(area["choropleth"]["values"]) == [DISTRICT[0]]
    assert area["choropleth"]["values"][DISTRICT[0]] == pytest.approx(today["choropleth"]["district"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"units": "nope"}, "Không có bộ đơn vị “nope”"),
        ({"as_of": "2000-01-01"}, "trước bộ đơn vị hành chính đầu tiên"),
        ({"as_of": "hôm qua"}, "phải là một ngày dạng YYYY-MM-DD"),
    ],
)
def test_a_bad_set_or_date_is_a_400_that_says_what_to_choose(demo, leader_client, query, message):
    for url in ("/dashboard/api/view", "/dashboard/api/stats", "/dashboard/api/communes"):
        r = leader_client.get(url, {**VIEW, **query})
        assert r.status_code == 400, url
        assert message in r.json()["error"], url
    page = leader_client.get("/", query)
    assert page.status_code == 400 and message in page.content.decode()


def test_a_scoped_officer_sees_on_the_old_set_only_the_units_inside_his_communes(demo):
    merged = client_for(make_user("ql_officer", "field_officer", communes=["24955"]))
    view = merged.get("/dashboard/api/view", {**VIEW, "units": OLD}).json()
    # Today's Quảng Lập was Pró and the old Quảng Lập: both lie wholly inside his commune.
    assert set(view["choropleth"]["values"]) == {"24946", "24955"}
    assert codes(merged.get("/dashboard/api/communes", {"units": OLD}).json()) == {"24946", "24955"}
    other = client_for(make_user("tm_officer", "field_officer", communes=["24931"]))
    assert set(other.get("/dashboard/api/view", {**VIEW, "units": OLD}).json()["choropleth"]["values"]) == {"24931"}
    assert other.get("/communes/24946/", {"units": OLD}).status_code == 404
    # A grouping of another level is not inside any one commune: scope fails closed.
    assert other.get("/dashboard/api/view", {**VIEW, "units": AREA}).json()["choropleth"]["values"] == {}


def test_a_communes_profile_tells_what_it_was_made_of_since_when_and_by_which_decision(demo, leader_client):
    merged = leader_client.get("/dashboard/api/view", {**VIEW, "commune": "24955"}).json()["history"]
    assert [v["valid_from"] for v in merged] == ["2009-01-01", "2025-01-01"]
    assert {p["code"] for p in merged[1]["made_of"]} == {"24946", "24955"}
    assert merged[1]["made_of"][0]["date"] == "2025-01-01" and merged[1]["made_of"][0]["legal_basis"]
    untouched = leader_client.get("/dashboard/api/view", {**VIEW, "commune": "24931"}).json()
    assert untouched["history"] == []
