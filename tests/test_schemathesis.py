"""Schemathesis over the two OpenAPI documents the platform publishes — the REST API (/api/schema/,
drf-spectacular) and OGC API – Features (/ogc/api) — asserting that no generated request, valid or not,
gets a server error.

This is the bounded run of `make test` (a few hundred cases, well under a minute). The long run
(≥ 2,000 cases) uses the same test with IOC_SCHEMATHESIS_EXAMPLES raised: see docs/testing.md.
Requests go through Django's WSGI application in the test's own transaction, so whatever a generated
POST writes is rolled back with the test.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from gis_ioc.models import ApiToken
from gis_ioc.wsgi import application
from layers.models import Layer
from tests.layers.test_query_data import sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("IOC_SCHEMATHESIS_EXAMPLES", "120"))
DOCUMENTS = {
    "rest": ("/api/schema/?format=json", ""),
    # The OGC document's paths are relative to the service root.
    "ogc": ("/ogc/api?f=json", "/ogc"),
}


def _fuzz(schema: schemathesis.schemas.BaseSchema, base_path: str, headers: dict[str, str]) -> Counter:
    """Run EXAMPLES generated cases (valid and invalid) and return the status codes seen; 5xx fail."""
    strategy = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    # Random slugs only ever find nothing: most cases name a real layer, so the query parsing behind is reached.
    slugs = st.sampled_from([None, *Layer.objects.vector().values_list("slug", flat=True)])
    seen: Counter = Counter()
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("IOC_SCHEMATHESIS_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, slug=slugs)
    def run(case: schemathesis.Case, slug: str | None) -> None:
        for name in ("slug", "collectionId"):
            if slug and name in (case.path_parameters or {}):
                case.path_parameters[name] = slug
        response = case.call(base_url=f"http://testserver{base_path}", headers=headers)
        seen[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} {case.query} → {response.status_code}")

    run()
    print(dict(seen))  # shown with -s: what the run covered
    assert failures == [], failures[:10]
    return seen


@pytest.fixture
def wsgi(settings):
    """The project's WSGI application, keeping the test's connection open between requests (as Django's test
    client does: the handler would otherwise close it at the end of each request, and the test's transaction
    with it)."""
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_no_generated_request_gets_a_server_error_as_anonymous(wsgi, sample, document):
    path, base = DOCUMENTS[document]
    schema = schemathesis.openapi.from_wsgi(path, wsgi, headers={"Host": "testserver"})
    seen = _fuzz(schema, base, {"Host": "testserver"})
    assert sum(n for code, n in seen.items() if 400 <= code < 500) > 0  # invalid input was generated and refused


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_no_generated_request_gets_a_server_error_as_gis_staff(wsgi, sample, gis_staff, document):
    token = ApiToken.issue(gis_staff, "schemathesis")
    headers = {"Host": "testserver", "Authorization": f"Token {token.key}"}
    path, base = DOCUMENTS[document]
    schema = schemathesis.openapi.from_wsgi(path, wsgi, headers=headers)
    _fuzz(schema, base, headers)
