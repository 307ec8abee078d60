"""Property tests of the request parsers: whatever text arrives, the answer is a value or a QueryError (a 400
naming the parameter) — never another exception, which would be a 500.

Strategies have explicit bounds: CQL2 expressions at most MAX_DEPTH levels and a few hundred characters,
coordinates within ±1e18 (beyond any CRS's domain, so the domain check is exercised) plus NaN/±inf.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from urllib.parse import quote

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis_ioc.lib import crs_domain
from layers import query as q
from layers.ogc.cql import MAX_FILTER_DEPTH, parse_filter
from tests.layers.test_query_data import sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True)
DB = settings(max_examples=60, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
MAX_DEPTH = 6  # of generated CQL2 expressions (the parser's own limit is tested separately)
COORD = st.one_of(
    st.floats(min_value=-1e18, max_value=1e18, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 180.0, -180.0, 90.0, 1e15, -1e15]),
)
NUMBER_TEXT = st.one_of(COORD.map(repr), st.sampled_from(["1e400", "-0", "0x10", "1_0", "", " ", "nan", "١"]))


def _ok_or_query_error(func, *args):
    try:
        return func(*args)
    except q.QueryError as exc:
        assert exc.description and exc.parameter  # a person can tell what to change
        return None


# --- bbox, crs, datetime ------------------------------------------------------------------------


@FAST
@given(st.lists(NUMBER_TEXT, min_size=0, max_size=7).map(",".join) | st.text(max_size=60))
def test_parse_bbox_returns_four_finite_ordered_numbers_or_a_query_error(text):
    bbox = _ok_or_query_error(q.parse_bbox, text)
    if bbox is not None:
        assert len(bbox) == 4 and all(math.isfinite(v) for v in bbox)
        assert bbox[0] <= bbox[2] and bbox[1] <= bbox[3]


@FAST
@given(st.text(max_size=80) | st.from_regex(r"\A\[?(EPSG|OGC|epsg):[0-9A-Z]{1,8}\]?\Z"))
def test_parse_crs_returns_an_offered_crs_or_a_query_error(text):
    crs = _ok_or_query_error(q.parse_crs, text)
    if crs is not None:
        assert crs in q.SUPPORTED_CRS.values()


INSTANT = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)).map(lambda d: d.isoformat()),
    st.dates().map(str),
    st.sampled_from(
        ["..", "", "2024-02-30", "2024-13-01", "0000-01-01", "2024-01-01T25:00:00Z", "9999-12-31T23:59:59+14:00"]
    ),
    st.text(max_size=30),
)


@FAST
@given(st.one_of(INSTANT, st.tuples(INSTANT, INSTANT).map("/".join)))
def test_parse_datetime_returns_an_ordered_interval_or_a_query_error(text):
    result = _ok_or_query_error(q.parse_datetime, text)
    if result is not None and None not in result:
        start, end = result
        assert q._as_datetime(start) <= q._as_datetime(end)


@pytest.mark.django_db
@DB
@given(
    crs=st.sampled_from(list(q.SUPPORTED_CRS.values())),
    corners=st.tuples(COORD, COORD, COORD, COORD),
)
def test_a_bbox_accepted_for_a_crs_can_be_transformed_by_postgis(crs, corners):
    """The domain check is the exact gate: what passes it, ST_Transform can take."""
    bbox = (
        min(corners[0], corners[2]),
        min(corners[1], corners[3]),
        max(corners[0], corners[2]),
        max(corners[1], corners[3]),
    )
    xy = _ok_or_query_error(q.bbox_in_crs, bbox, crs)
    if xy is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_AsText(ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, %s), 4326))", [*xy, crs.srid])
        assert cursor.fetchone()[0]


def test_the_domain_of_vn2000_covers_the_district_and_excludes_1e15():
    assert crs_domain.within_domain((550_000, 1_280_000, 620_000, 1_340_000), 5899)
    assert not crs_domain.within_domain((-1e15, -1e15, 1e15, 1e15), 5899)
    assert not crs_domain.within_domain((math.nan, 0, 1, 1), 3857)


# --- CQL2 text and JSON -------------------------------------------------------------------------

PROPERTIES = st.sampled_from(["pupils", "name", "level", "id", "geometry", "owner_phone", "commune_code"])
LITERALS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    COORD.map(lambda f: repr(f) if math.isfinite(f) else "1e999"),
    st.text(max_size=12).map(lambda t: "'" + t.replace("'", "''") + "'"),
    st.sampled_from(["TRUE", "FALSE", "NULL", "DATE('2024-01-01')", "TIMESTAMP('2024-01-01T00:00:00Z')"]),
)
POINTS = st.lists(
    st.tuples(COORD, COORD).map(lambda p: f"{p[0]!r} {p[1]!r}".replace("nan", "NaN")), min_size=0, max_size=6
)
GEOMETRIES = st.one_of(
    st.tuples(COORD, COORD).map(lambda p: f"POINT({p[0]!r} {p[1]!r})"),
    POINTS.map(lambda pts: f"LINESTRING({', '.join(pts)})"),
    POINTS.map(lambda pts: f"POLYGON(({', '.join(pts)}))"),
    st.tuples(COORD, COORD, COORD, COORD).map(lambda b: "BBOX({!r}, {!r}, {!r}, {!r})".format(*b)),
)


def _cql_text(depth: int = MAX_DEPTH) -> st.SearchStrategy[str]:
    scalar = st.one_of(PROPERTIES, LITERALS)
    arithmetic = st.recursive(
        scalar, lambda inner: st.tuples(inner, st.sampled_from("+-*/"), inner).map(" ".join), max_leaves=8
    )
    leaf = st.one_of(
        st.tuples(arithmetic, st.sampled_from(["=", "<>", "<", ">", "<=", ">="]), arithmetic).map(" ".join),
        st.tuples(PROPERTIES, st.sampled_from(["LIKE", "NOT LIKE"]), LITERALS).map(" ".join),
        st.tuples(PROPERTIES, st.lists(LITERALS, min_size=1, max_size=4)).map(
            lambda t: f"{t[0]} IN ({', '.join(t[1])})"
        ),
        st.tuples(PROPERTIES, LITERALS, LITERALS).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        PROPERTIES.map(lambda p: f"{p} IS NULL"),
        st.tuples(st.sampled_from(["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT"]), GEOMETRIES).map(
            lambda t: f"{t[0]}(geometry, {t[1]})"
        ),
        st.tuples(st.sampled_from(["T_AFTER", "T_BEFORE", "T_DURING", "T_INTERSECTS"]), PROPERTIES, LITERALS).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.text(max_size=20),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"NOT ({e})"),
        ),
        max_leaves=depth,
    )


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), COORD, st.text(max_size=10))
JSON_NODES = st.recursive(
    st.one_of(
        JSON_SCALARS,
        PROPERTIES.map(lambda p: {"property": p}),
        st.tuples(COORD, COORD).map(lambda p: {"type": "Point", "coordinates": list(p)}),
        st.lists(st.tuples(COORD, COORD).map(list), max_size=5).map(
            lambda ring: {"type": "Polygon", "coordinates": [ring]}
        ),
        st.lists(COORD, min_size=0, max_size=7).map(lambda b: {"bbox": b}),
    ),
    lambda inner: st.builds(
        lambda op, args: {"op": op, "args": args},
        st.sampled_from(
            [
                "and",
                "or",
                "not",
                "=",
                "<",
                ">",
                "like",
                "in",
                "between",
                "isNull",
                "s_intersects",
                "s_within",
                "t_after",
                "t_during",
                "+",
                "*",
                "casei",
                "unknown",
            ]
        ),
        st.lists(inner, max_size=4),
    ),
    max_leaves=12,
)


@FAST
@given(st.one_of(_cql_text(), st.text(max_size=200)))
def test_cql2_text_parses_to_an_ast_or_a_query_error(text):
    _ok_or_query_error(parse_filter, text, "cql2-text")


@FAST
@given(st.one_of(JSON_NODES.map(lambda d: json.dumps(d)), st.text(max_size=100)))
def test_cql2_json_parses_to_an_ast_or_a_query_error(text):
    _ok_or_query_error(parse_filter, text, "cql2-json")


def test_cql2_deeper_than_the_limit_is_a_query_error_not_a_recursion_error():
    text = " AND ".join(["pupils > 1"] * (MAX_FILTER_DEPTH + 5))  # a left-deep tree, one level per AND
    with pytest.raises(q.QueryError, match=str(MAX_FILTER_DEPTH)):
        parse_filter(text, "cql2-text")


@pytest.mark.django_db
@DB
@given(
    lang_and_text=st.one_of(
        _cql_text().map(lambda t: ("cql2-text", t)), JSON_NODES.map(lambda d: ("cql2-json", json.dumps(d)))
    ),
    filter_crs=st.sampled_from(["", "EPSG:5899", "EPSG:3857", "http://www.opengis.net/def/crs/EPSG/0/4326"]),
)
def test_any_filter_on_the_items_endpoint_is_answered_200_or_400(client, sample, lang_and_text, filter_crs):
    lang, text = lang_and_text
    url = f"/ogc/collections/schools/items?filter-lang={lang}&filter={quote(text)}"
    if filter_crs:
        url += f"&filter-crs={quote(filter_crs)}"
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code in (200, 400), (text, response.content[:300])
