"""The map's statistics: every commune in one answer, classified, and refused clearly when asked wrongly."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import YEAR_RANGE

pytestmark = pytest.mark.django_db


def test_one_request_returns_every_commune_with_its_class_and_the_legend_breaks(demo, leader_client):
    r = leader_client.get("/dashboard/api/stats", {"stat": "petitions_received", **YEAR_RANGE})
    assert r.status_code == 200
    body = r.json()
    assert set(body["values"]) == set(demo["communes"])  # all nine current communes at once
    # Commune i got i + 2 petitions in 2024 (demo_data), so the values are 2..10.
    assert sorted(body["values"].values()) == [float(v) for v in range(2, 11)]
    assert body["breaks"][-1] == 10.0 and len(body["breaks"]) == len(body["colors"]) == 5
    assert body["classes"]["24928"] == 0 and body["classes"]["24955"] == 4
    assert body["district"] == sum(range(2, 11))


@pytest.mark.parametrize("method", ["quantiles", "jenks", "equal"])
def test_each_classification_can_be_chosen(demo, leader_client, method):
    r = leader_client.get(
        "/dashboard/api/stats", {"stat": "petitions_received", "method": method, "k": 3, **YEAR_RANGE}
    )
    assert r.status_code == 200
    assert r.json()["method"] == method and len(r.json()["breaks"]) == 3


def test_an_end_before_the_start_is_refused_with_a_message(demo, leader_client):
    r = leader_client.get(
        "/dashboard/api/stats", {"stat": "petitions_received", "start": "2024-06-01", "end": "2024-01-01"}
    )
    assert r.status_code == 400
    assert "01/01/2024" in r.json()["error"] and "01/06/2024" in r.json()["error"]


def test_a_malformed_date_is_refused_naming_the_parameter(demo, leader_client):
    r = leader_client.get("/dashboard/api/view", {"start": "31/12/2024"})
    assert r.status_code == 400
    assert "start" in r.json()["error"]


def test_an_unknown_statistic_is_refused(demo, leader_client):
    r = leader_client.get("/dashboard/api/stats", {"stat": "happiness_index", **YEAR_RANGE})
    assert r.status_code == 404
    assert "happiness_index" in r.json()["error"]


def test_an_unknown_commune_is_refused(demo, leader_client):
    r = leader_client.get("/dashboard/api/view", {"commune": "99999", **YEAR_RANGE})
    assert r.status_code == 404
    assert "99999" in r.json()["error"]
    assert leader_client.get("/communes/99999/").status_code == 404


def test_the_time_range_changes_the_kpis(demo, leader_client):
    def received(start, end):
        body = leader_client.get("/dashboard/api/view", {"start": start, "end": end}).json()
        return {c["key"]: c["value"] for c in body["kpis"]}["petitions_received"]

    assert received("2024-01-01", "2024-12-31") == 54  # 45 in March + 9 in September
    assert received("2024-09-01", "2024-09-30") == 9


def test_a_commune_profile_compares_its_kpis_with_the_district_average(demo, leader_client):
    body = leader_client.get(
        "/dashboard/api/view", {"commune": "24931", "stat": "petitions_received", **YEAR_RANGE}
    ).json()
    cards = {c["key"]: c for c in body["kpis"]}
    assert cards["petitions_received"]["value"] == 3  # Thạnh Mỹ is the 2nd commune: 2 + 1
    assert cards["petitions_received"]["district"] == pytest.approx(54 / 9)
    assert {t["slug"] for t in body["lists"]} == {"petitions", "schools", "health-facilities", "dossiers"}
    assert all(r["commune_code"] == "24931" for t in body["lists"] for r in t["rows"])
    assert body["series"]["commune"] and body["series"]["district"]


def test_visitors_get_only_public_statistics(demo, anon_client, leader_client):
    public = {s["code"] for s in anon_client.get("/").context["statistics"]}
    staff = {s["code"] for s in leader_client.get("/").context["statistics"]}
    assert "schools_per_10k" in public and "petitions_open" in public
    assert not public & {"revenue_actual", "revenue_vs_plan", "dossier_on_time_rate", "parcels"}
    assert {"revenue_vs_plan", "dossier_on_time_rate"} <= staff
    r = anon_client.get("/dashboard/api/stats", {"stat": "revenue_actual", **YEAR_RANGE})
    assert r.status_code == 404
    kpis = {c["key"] for c in anon_client.get("/dashboard/api/view", YEAR_RANGE).json()["kpis"]}
    assert "revenue_vs_plan" not in kpis and "petitions_open" in kpis


def test_a_leader_signs_in_on_the_dashboards_own_page_and_gets_the_full_dashboard(district, leader, anon_client):
    assert anon_client.get("/").context["signed_in"] is False
    r = anon_client.post("/login/", {"username": "leader", "password": "pw-leader-123", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert anon_client.get("/").context["signed_in"] is True
    r = anon_client.post("/login/", {"username": "leader", "password": "wrong"})
    assert r.status_code == 200 and "không đúng" in r.content.decode()


def test_every_table_a_statistic_reads_is_declared_as_its_source(db):
    """Visibility rests on the declared sources, so a statistic must not read a table it does not declare."""
    import re

    from django.apps import apps

    from layers.statistics import STATISTICS

    tables = {m._meta.db_table for m in apps.get_models()}
    for stat in STATISTICS.values():
        read = {t for t in tables if re.search(rf"\b{re.escape(t)}\b", stat.sql)}
        assert read <= set(stat.sources), (stat.code, read - set(stat.sources))


def test_a_statistic_whose_source_no_layer_shows_is_hidden(db, leader):
    """Fails closed: when the only layer over the schools table is removed (or shows a filtered part of
    it), school statistics disappear instead of being published from data nobody may see."""
    from dashboard import stats
    from layers.models import Layer

    assert "schools" in {s["code"] for s in stats.visible(None)}
    Layer.objects.filter(slug="schools").update(source_filter={"level": "thpt"})
    assert "schools" not in {s["code"] for s in stats.visible(None)}
    assert "schools" not in {s["code"] for s in stats.visible(leader)}
    Layer.objects.filter(slug="schools").delete()
    assert "schools" not in {s["code"] for s in stats.visible(leader)}
    assert "population" in {s["code"] for s in stats.visible(None)}  # reference data stays public


def test_a_chart_by_a_field_the_visitor_may_not_see_is_left_out(demo, anon_client):
    """The petitions-by-category chart reveals the category of every petition: it follows the field."""
    from layers.models import Layer

    def chart_slugs() -> set[str]:
        return {c["slug"] for c in anon_client.get("/dashboard/api/view", YEAR_RANGE).json()["categories"]}

    assert "petitions" in chart_slugs()
    layer = Layer.objects.get(slug="petitions")
    layer.attributes = [
        {**a, "visibility": "staff"} if a["name"] == "category" else a for a in layer.attributes
    ]  # fmt: skip
    layer.save()
    assert "petitions" not in chart_slugs()
