"""OGC API – Features (Parts 1, 2 and 3) over the layer catalog, for QGIS, ArcGIS, GDAL and notebooks.

Every resource answers JSON and HTML (`?f=` or Accept). Items are assembled in PostGIS by
layers.query; this module only parses the request, applies the OGC rules on parameters and writes links.
A collection the user may not see does not exist for them (404), exactly like an unknown one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gis_ioc import permissions
from gis_ioc.middleware import LANGUAGE_PARAM
from layers import query as q
from layers.models import Layer
from layers.ogc import openapi
from layers.ogc.cql import parse_filter
from layers.ogc.responses import (
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    OGCError,
    base_url,
    error_response,
    json_response,
    link,
    url_with,
    wants_html,
)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-6/1.0/conf/properties",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
]
ITEMS_PARAMS = {
    "f",
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "count",
    "q",
    LANGUAGE_PARAM,
}
ITEM_PARAMS = {"f", "crs", "properties", LANGUAGE_PARAM}
SIMPLE_PARAMS = {"f", LANGUAGE_PARAM}


def ogc_view(allowed: set[str] | None = SIMPLE_PARAMS) -> Callable[..., Callable[..., HttpResponse]]:
    """Decorate a view: GET/HEAD only, unknown parameters rejected, OGC errors as exception bodies."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @require_safe
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if allowed is not None:
                    unknown = [k for k in request.GET if k not in allowed]
                    if unknown:
                        raise OGCError(
                            400, "InvalidParameterValue", _("Tham số không được hỗ trợ: %(p)s") % {"p": unknown[0][:60]}
                        )
                return view(request, *args, **kwargs)
            except q.QueryError as exc:
                return error_response(request, OGCError.from_query_error(exc))
            except q.LayerNotFound:
                return error_response(request, OGCError(404, "NotFound", _("Không có lớp dữ liệu này.")))
            except OGCError as exc:
                return error_response(request, exc)

        return wrapper

    return decorator


def _layer(request: HttpRequest, collection_id: str) -> Layer:
    return q.get_layer(collection_id, request.user)


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"ogc/{template}", {**context, "json_url": url_with(request, f="json")})


# --- landing, conformance, API ----------------------------------------------------------------


@ogc_view()
def landing(request: HttpRequest) -> HttpResponse:
    """The landing page: what this service is and where its parts live."""
    base = base_url(request)
    data = {
        "title": _("Dữ liệu không gian huyện Đơn Dương — OGC API Features"),
        "description": _("Các lớp dữ liệu của Trung tâm điều hành thông minh, theo chuẩn OGC API – Features."),
        "links": [
            link(f"{base}/?f=json", "self", JSON, "This document"),
            link(f"{base}/?f=html", "alternate", HTML, "This document as HTML"),
            link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{base}/api?f=html", "service-doc", HTML, "The API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            link(f"{base}/collections", "data", JSON, "Collections"),
        ],
    }
    if wants_html(request):
        return _page(request, "landing.html", {"data": data})
    return json_response(data)


@ogc_view()
def conformance(request: HttpRequest) -> HttpResponse:
    """The conformance classes implemented."""
    data = {"conformsTo": CONFORMANCE}
    if wants_html(request):
        return _page(request, "conformance.html", {"data": data})
    return json_response(data)


@ogc_view()
def api(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.0 definition of this service (collections as the user sees them)."""
    layers = list(Layer.objects.vector().visible_to(request.user))
    json_types = {"date": "string", "datetime": "string"}
    queryables = {}
    for layer in layers:
        try:
            columns = q.visible_columns(q.layer_source(layer), request.user, "ogc")
        except q.LayerNotFound:
            continue
        queryables[layer.slug] = {n: json_types.get(c.type, c.type) for n, c in columns.items()}
    doc = openapi.document(base_url(request), layers, queryables)
    if wants_html(request):
        return _page(request, "api.html", {"doc": doc, "doc_json": json.dumps(doc, ensure_ascii=False, indent=2)})
    return json_response(doc, OPENAPI)


# --- collections ------------------------------------------------------------------------------


def collection_info(request: HttpRequest, layer: Layer) -> dict[str, Any]:
    """The collection document of a layer as this user sees it."""
    base = f"{base_url(request)}/collections/{layer.slug}"
    info: dict[str, Any] = {
        "id": layer.slug,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": list(q.SUPPORTED_CRS),
        "storageCrs": q.CRS84,
        "links": [
            link(f"{base}?f=json", "self", JSON, layer.title),
            link(f"{base}?f=html", "alternate", HTML, layer.title),
            link(f"{base}/items?f=json", "items", GEOJSON, _("Đối tượng")),
            link(f"{base}/items?f=html", "items", HTML, _("Đối tượng")),
            link(
                f"{base}/queryables?f=json",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
        ],
    }
    if layer.attribution:
        info["attribution"] = layer.attribution
    bbox = q.extent(layer, request.user)
    if bbox:
        info["extent"] = {"spatial": {"bbox": [list(bbox)], "crs": q.CRS84}}
    if layer.temporal_field:
        info.setdefault("extent", {})["temporal"] = {
            "interval": [[None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    return info


@ogc_view()
def collections(request: HttpRequest) -> HttpResponse:
    """Every vector layer the user may see."""
    base = base_url(request)
    layers = Layer.objects.vector().visible_to(request.user)
    data = {
        "links": [
            link(f"{base}/collections?f=json", "self", JSON),
            link(f"{base}/collections?f=html", "alternate", HTML),
        ],
        "collections": [collection_info(request, layer) for layer in layers],
        "crs": list(q.SUPPORTED_CRS),
    }
    if wants_html(request):
        return _page(request, "collections.html", {"data": data})
    return json_response(data)


@ogc_view()
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    """One collection's metadata."""
    layer = _layer(request, collection_id)
    data = collection_info(request, layer)
    if wants_html(request):
        return _page(request, "collection.html", {"data": data, "layer": layer})
    return json_response(data)


@ogc_view()
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    """The JSON Schema of the properties a filter may use (the fields this user may see)."""
    layer = _layer(request, collection_id)
    data = queryables_schema(request, layer)
    if wants_html(request):
        return _page(request, "queryables.html", {"data": data, "layer": layer})
    return json_response(data, "application/schema+json")


_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


def queryables_schema(request: HttpRequest, layer: Layer) -> dict[str, Any]:
    source = q.layer_source(layer)
    columns = q.visible_columns(source, request.user, "ogc")
    props: dict[str, Any] = {}
    if source.geom is not None:
        kind = (layer.geometry_type or "Geometry").lower()
        props["geometry"] = {"format": f"geometry-{kind}", "x-ogc-role": "primary-geometry"}
    for name, column in columns.items():
        props[name] = {"title": layer.attribute_title(name), **_SCHEMA_TYPES.get(column.type, {"type": "string"})}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{layer.slug}/queryables",
        "type": "object",
        "title": layer.title,
        "properties": props,
        "additionalProperties": False,
    }


# --- items ------------------------------------------------------------------------------------


def parse_items_query(request: HttpRequest, layer: Layer) -> q.FeatureQuery:
    """The OGC items parameters as a FeatureQuery (QueryError names the faulty parameter)."""
    g = request.GET
    source = q.layer_source(layer)
    columns = q.visible_columns(source, request.user, "ogc")
    query = q.FeatureQuery(
        crs=q.parse_crs(g.get("crs"), "crs"),
        bbox_crs=q.parse_crs(g.get("bbox-crs"), "bbox-crs"),
        filter_crs=q.parse_crs(g.get("filter-crs"), "filter-crs"),
        bbox=q.parse_bbox(g.get("bbox")),
        limit=q.parse_int(g.get("limit"), "limit", q.DEFAULT_LIMIT, 1, q.MAX_LIMIT),
        offset=q.parse_int(g.get("offset"), "offset", 0, 0, 10**9),
        sortby=q.parse_sort(g.get("sortby"), set(columns) | {"id"}),
        properties=q.parse_properties(g.get("properties"), set(columns)),
        text=g.get("q", "").strip()[:200],
    )
    if query.bbox is not None and "bbox-crs" not in g:
        query.bbox_crs = q.DEFAULT_CRS
    count = g.get("count")
    if count not in (None, "", "exact", "estimate"):
        raise q.QueryError("count", _("count phải là exact hoặc estimate."))
    query.exact_count = count == "exact"
    if g.get("datetime"):
        query.time_start, query.time_end = q.parse_datetime(g.get("datetime"))
    if "filter-lang" in g and "filter" not in g:
        raise q.QueryError("filter-lang", _("filter-lang chỉ dùng kèm tham số filter."))
    if g.get("filter"):
        query.cql = parse_filter(g["filter"], g.get("filter-lang"))
    elif "filter" in g:
        raise q.QueryError("filter", _("Biểu thức lọc rỗng."))
    # Queryables as query parameters: ?status=received (equality, Part 1 /req/core/fc-filters).
    for key in g:
        if key in ITEMS_PARAMS:
            continue
        if key not in columns:
            raise q.QueryError(key, _("Tham số không được hỗ trợ: %(p)s") % {"p": key[:60]})
        query.filters.append((key, "eq", g[key]))
    return query


@require_safe
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    """Features of a collection: GeoJSON assembled in PostGIS, with numberMatched and next/prev links."""
    try:
        layer = _layer(request, collection_id)
        return _items(request, layer)
    except q.QueryError as exc:
        return error_response(request, OGCError.from_query_error(exc))
    except q.LayerNotFound:
        return error_response(request, OGCError(404, "NotFound", _("Không có lớp dữ liệu này.")))
    except OGCError as exc:
        return error_response(request, exc)


def _items(request: HttpRequest, layer: Layer) -> HttpResponse:
    html = wants_html(request)
    query = parse_items_query(request, layer)
    if html:
        query.crs = q.DEFAULT_CRS  # the page's map draws lon/lat; other CRSs are for the JSON output
    page = q.features_page(layer, request.user, query, "ogc")
    links = [
        link(url_with(request, f="json"), "self", GEOJSON),
        link(url_with(request, f="html"), "alternate", HTML),
        link(f"{base_url(request)}/collections/{layer.slug}", "collection", JSON, layer.title),
    ]
    if page.has_next:
        links.append(link(url_with(request, offset=query.offset + query.limit), "next", GEOJSON))
    if query.offset > 0:
        links.append(link(url_with(request, offset=max(0, query.offset - query.limit)), "prev", GEOJSON))
    meta: dict[str, Any] = {
        "numberReturned": page.number_returned,
        "timeStamp": timezone.now().replace(microsecond=0).isoformat(),
        "links": links,
    }
    if page.number_matched is not None:
        meta["numberMatched"] = page.number_matched
        if page.matched_is_estimate:
            meta["numberMatchedIsEstimate"] = True
    if html:
        features = json.loads(page.features_json)
        return _page(
            request,
            "items.html",
            {"layer": layer, "features": features, "meta": meta, "fields": _field_titles(request, layer, query)},
        )
    # The features array is spliced in as text: a 10,000-feature page is never parsed in Python.
    body = (
        '{"type":"FeatureCollection","features":' + page.features_json + "," + json.dumps(meta, ensure_ascii=False)[1:]
    )
    response = HttpResponse(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{query.crs.uri}>"
    return response


def _field_titles(request: HttpRequest, layer: Layer, query: q.FeatureQuery) -> list[tuple[str, str]]:
    names = query.properties or permissions.visible_fields(request.user, layer, "ogc")
    return [(n, layer.attribute_title(n)) for n in names]


@ogc_view(ITEM_PARAMS)
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    """One feature."""
    layer = _layer(request, collection_id)
    html = wants_html(request)
    crs = q.parse_crs(request.GET.get("crs"), "crs")
    if html:
        crs = q.DEFAULT_CRS  # the page's map draws lon/lat
    source = q.layer_source(layer)
    columns = q.visible_columns(source, request.user, "ogc")
    properties = q.parse_properties(request.GET.get("properties"), set(columns))
    text = q.feature_json(layer, request.user, feature_id, crs, "ogc", properties)
    if text is None:
        raise OGCError(404, "NotFound", _("Không có đối tượng %(id)s trong lớp này.") % {"id": feature_id[:60]})
    feature = json.loads(text)
    base = f"{base_url(request)}/collections/{layer.slug}"
    feature["links"] = [
        link(url_with(request, f="json"), "self", GEOJSON),
        link(url_with(request, f="html"), "alternate", HTML),
        link(base, "collection", JSON, layer.title),
    ]
    if html:
        fields = [(n, layer.attribute_title(n), feature["properties"].get(n)) for n in feature["properties"]]
        return _page(request, "item.html", {"layer": layer, "feature": feature, "fields": fields})
    response = json_response(feature, GEOJSON)
    response["Content-Crs"] = f"<{crs.uri}>"
    return response
