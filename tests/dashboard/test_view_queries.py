"""One dashboard view answers with a fixed, small number of queries, and a past range is kept until the data
changes (issue 18, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from layers import statistics
from layers.models import Layer
from petitions.models import Petition
from tests.dashboard.conftest import YEAR_RANGE
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db


def _view(client, **extra):
    with CaptureQueriesContext(connection) as queries:
        r = client.get("/dashboard/api/view", {"stat": "petitions_received", **YEAR_RANGE, **extra})
    assert r.status_code == 200, r.content
    return r.json(), len(queries)


def test_all_kpis_come_from_one_query_with_the_figures_of_one_query_each(demo):
    start, end = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
    together = statistics.district_values(statistics.KPI_CODES, start, end)
    assert together == {c: statistics.district_value(c, start, end) for c in statistics.KPI_CODES}
    assert together["petitions_received"] == sum(range(2, 11))
    scope = demo["communes"][:3]
    assert statistics.district_values(["petitions_received"], start, end, scope) == {
        "petitions_received": statistics.district_value("petitions_received", start, end, scope)
    }


def test_a_view_does_not_grow_a_query_per_statistic(demo, leader_client):
    """The KPI cards, the choropleth, the series and the charts: a constant number of queries, however many
    KPIs there are (it was 54 for the demo's 14 KPIs, one query and one unit check each)."""
    today = {"start": f"{dt.date.today().year}-01-01", "end": dt.date.today().isoformat()}  # never cached
    _body, first = _view(leader_client, **today)  # also loads the unit sets and weights (8 queries)
    _body, n = _view(leader_client, **today)
    assert n <= 20 and first <= n + 10
    assert n < len(statistics.KPI_CODES) + 6


def test_a_past_range_is_kept_until_the_data_changes(demo, leader_client):
    first, n_first = _view(leader_client)
    again, n_again = _view(leader_client)
    assert again == first and n_again < n_first // 2  # answered from the cache
    # A new petition through the one change signal: the next answer counts it.
    model = Petition.objects.filter(commune_code=demo["communes"][0]).first()
    PetitionFactory(
        commune=model.commune, commune_code=model.commune_code, received_at=model.received_at, geom=model.geom
    )
    Layer.objects.record_change(Petition)
    after, _n = _view(leader_client)
    assert after["kpis"] != first["kpis"]
    received = {k["key"]: k["value"] for k in after["kpis"]}["petitions_received"]
    assert received == sum(range(2, 11)) + 1


def test_the_cache_follows_the_users_scope_not_only_the_question(demo, leader, leader_client):
    first, _n = _view(leader_client)
    from gis_ioc.models import UserScope

    UserScope.objects.create(user=leader, commune_codes=demo["communes"][:2])
    narrowed, _n = _view(leader_client)
    assert set(narrowed["communes"]) == set(demo["communes"][:2]) != set(first["communes"])
