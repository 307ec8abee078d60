"""The bad-input corpus, requests part (tests/corpus/requests.yaml): every case, on every channel, is refused
with a 4xx and a message a person can act on, and no table gains or loses a row."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.cache import caches

from layers.models import Layer
from petitions.models import Category
from tests.corpus.channels import client_address, expand, is_human, message_of, table_counts
from tests.layers.test_query_data import sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

CASES = yaml.safe_load((Path(__file__).parent / "requests.yaml").read_text(encoding="utf-8"))
ROLES = {
    "leader": "lãnh đạo",
    "planner": "quy hoạch",
    "field_officer": "cán bộ hiện trường",
    "gis_staff": "cán bộ GIS",
    "agency_staff": "cán bộ chuyên môn",
    "administrator": "quản trị",
}


def test_the_corpus_has_at_least_80_named_cases():
    names = [c["name"] for c in CASES]
    assert len(names) >= 80 and len(set(names)) == len(names)


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_a_bad_request_is_refused_with_a_message_and_writes_nothing(client, sample, district, case, request):
    if case.get("known"):
        request.applymarker(pytest.mark.xfail(reason=case["known"], strict=False))
    for cache in caches.all():
        cache.clear()  # throttle buckets of earlier cases
    if case["url"].startswith("/mapproxy/"):
        request.getfixturevalue("mapproxy_ready")
    if case.get("role"):
        client.force_login(request.getfixturevalue(case["role"]))
    slugs = list(Layer.objects.vector().values_list("slug", flat=True))
    url = expand(case["url"], slugs, Category.values[0])
    before = table_counts()
    extra = {"REMOTE_ADDR": client_address(case["name"]), "HTTP_ACCEPT": "application/json"}
    if case.get("method") == "POST":
        if "json" in case:
            response = client.post(url, case["json"], content_type="application/json", **extra)
        else:
            data = {k: expand(str(v), slugs, Category.values[0]) for k, v in (case.get("data") or {}).items()}
            response = client.post(url, data, **extra)
    else:
        response = client.get(url, **extra)
    assert response.status_code in case["expect"], (response.status_code, response.content[:400])
    message = message_of(response)
    assert is_human(message), message[:400]
    if case.get("says"):
        assert case["says"].lower() in message.lower(), message[:400]
    assert table_counts() == before
