"""numberMatched: exact for small results (counted in the page query itself), the planner's estimate for
large ones, exact on demand."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from layers import query as q
from layers.models import Layer
from tests.layers.test_query_data import body, sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db


def page(slug: str, **kwargs) -> q.Page:
    return q.features_page(Layer.objects.get(slug=slug), AnonymousUser(), q.FeatureQuery(**kwargs), "rest")


def statements(queries: list[dict]) -> list[str]:
    """The statements sent, without the savepoints a test's transaction adds around each of them."""
    return [x["sql"] for x in queries if not x["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def counts(queries: list[dict]) -> list[str]:
    return [sql for sql in statements(queries) if sql.startswith("SELECT count(*) FROM")]


def test_a_full_page_of_a_small_filtered_result_is_counted_exactly_in_the_page_query(sample):
    layer = Layer.objects.get(slug="schools")
    query = q.FeatureQuery(communes=["24931"], limit=2)
    with CaptureQueriesContext(connection) as ctx:
        result = q.features_page(layer, AnonymousUser(), query, "rest")
    assert result.number_returned == 2 and result.number_matched == 3
    assert not result.matched_is_estimate and result.has_next
    # The planner's estimate, then the page with its count: no separate count(*) over the filter.
    sent = statements(ctx.captured_queries)
    assert len(sent) == 2 and sent[0].startswith("EXPLAIN") and counts(ctx.captured_queries) == []


def test_the_folded_count_follows_sorting_and_offsets(sample):
    result = page("schools", communes=["24931", "24937"], sortby=[("pupils", True)], limit=2, offset=2)
    names = [f["properties"]["name"] for f in json.loads(result.features_json)]
    assert names == ["Trường Tiểu học Đạ Ròn", "Trường Tiểu học Đà Loan"]
    assert result.number_matched == 5 and not result.matched_is_estimate and result.has_next


def test_an_offset_past_the_end_still_gives_the_exact_total(sample):
    result = page("schools", communes=["24931"], limit=2, offset=10)
    assert result.number_returned == 0 and result.number_matched == 3 and not result.matched_is_estimate


def test_a_filtered_result_estimated_above_the_threshold_stays_an_estimate_unless_asked(sample, monkeypatch):
    monkeypatch.setattr(q, "EXACT_COUNT_BELOW", 1)  # every estimate (at least one row) is "large"
    with CaptureQueriesContext(connection) as ctx:
        result = page("schools", communes=["24931", "24937"], limit=1)
    assert result.matched_is_estimate and counts(ctx.captured_queries) == []
    result = page("schools", communes=["24931", "24937"], limit=1, exact_count=True)
    assert result.number_matched == 5 and not result.matched_is_estimate


def test_ogc_items_report_the_exact_total_of_a_small_filtered_result(client, sample):
    response = client.get(
        "/ogc/collections/schools/items", {"commune_code": "24931", "limit": 2}, HTTP_ACCEPT="application/geo+json"
    )
    data = body(response)
    assert data["numberReturned"] == 2 and data["numberMatched"] == 3
    assert "numberMatchedIsEstimate" not in data
    assert any(link["rel"] == "next" for link in data["links"])
