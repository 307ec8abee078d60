"""The OpenAPI 3.0 definition of the OGC API (conformance class oas30), built from the catalog."""

from __future__ import annotations

from typing import Any

from layers.models import Layer
from layers.query import MAX_LIMIT, SUPPORTED_CRS

_JSON = {"application/json": {"schema": {"type": "object"}}}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
_EXCEPTION = {
    "description": "An error: code and description naming the parameter",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
            }
        }
    },
}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query", **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "schema": schema, **extra}


def _crs_schema() -> dict[str, Any]:
    return {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS)}


def _items_parameters(fields: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Parameters of an items operation; with `fields`, one equality parameter per queryable (Part 1
    /req/core/fc-filters). GDAL's OAPIF driver reads these to decide what it may filter server-side."""
    head: list[dict[str, Any]] = [] if fields is not None else [{"$ref": "#/components/parameters/collectionId"}]
    extra = [
        _param(name, f"Features whose {name} equals the value", {"type": kind}) for name, kind in (fields or {}).items()
    ]
    return (
        head
        + extra
        + [
            _param("f", "Output format", {"type": "string", "enum": ["json", "html"]}),
            _param(
                "limit",
                "Maximum number of features",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
            ),
            _param("offset", "Number of features to skip", {"type": "integer", "minimum": 0, "default": 0}),
            _param(
                "bbox",
                "minx,miny,maxx,maxy in bbox-crs axis order",
                {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                style="form",
                explode=False,
            ),
            _param("bbox-crs", "CRS of bbox", _crs_schema()),
            _param("crs", "CRS of the output geometries", _crs_schema()),
            _param("datetime", "Instant or interval (RFC 3339, '..' for open ends)", {"type": "string"}),
            _param("filter", "CQL2 filter on the queryables", {"type": "string"}),
            # "cql-text" is the pre-standard name GDAL 3.6 looks for before it sends filters; read as CQL2 text.
            _param(
                "filter-lang",
                "Filter language",
                {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
            ),
            _param("filter-crs", "CRS of geometry literals in the filter", _crs_schema()),
            _param("sortby", "Comma-separated properties, '-' for descending", {"type": "string"}),
            _param("properties", "Comma-separated properties to return", {"type": "string"}),
            _param(
                "count",
                "'exact' for an exact numberMatched on large collections",
                {"type": "string", "enum": ["exact", "estimate"]},
            ),
            _param("q", "Accent-insensitive text search", {"type": "string"}),
        ]
    )


def document(base: str, layers: list[Layer], queryables: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """The OpenAPI document; collectionId lists the collections this user may see, and each gets its own
    items path listing its queryables (`queryables`: slug -> {field: JSON type})."""
    get = "get"
    per_collection = {
        f"/collections/{slug}/items": {
            get: {
                "operationId": f"getFeatures_{slug.replace('-', '_')}",
                "parameters": _items_parameters(fields),
                "responses": {"200": {"description": "Features", "content": _GEOJSON}, "400": _EXCEPTION},
            }
        }
        for slug, fields in (queryables or {}).items()
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "gis_ioc OGC API – Features",
            "version": "1.0",
            "description": "Layers of the Đơn Dương Intelligent Operations Center (OGC API – Features Parts 1, 2, 3).",
        },
        "servers": [{"url": base}],
        "paths": {
            "/": {
                get: {
                    "operationId": "getLandingPage",
                    "summary": "Landing page",
                    "responses": {"200": {"description": "Landing page", "content": _JSON}},
                }
            },
            "/conformance": {
                get: {
                    "operationId": "getConformance",
                    "summary": "Conformance classes",
                    "responses": {"200": {"description": "Conformance", "content": _JSON}},
                }
            },
            "/api": {
                get: {
                    "operationId": "getAPI",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.0"}},
                }
            },
            "/collections": {
                get: {
                    "operationId": "getCollections",
                    "summary": "Collections",
                    "responses": {"200": {"description": "Collections", "content": _JSON}},
                }
            },
            "/collections/{collectionId}": {
                get: {
                    "operationId": "describeCollection",
                    "parameters": [{"$ref": "#/components/parameters/collectionId"}],
                    "responses": {"200": {"description": "Collection", "content": _JSON}, "404": _EXCEPTION},
                }
            },
            "/collections/{collectionId}/queryables": {
                get: {
                    "operationId": "getQueryables",
                    "parameters": [{"$ref": "#/components/parameters/collectionId"}],
                    "responses": {
                        "200": {
                            "description": "JSON Schema of queryables",
                            "content": {"application/schema+json": {"schema": {"type": "object"}}},
                        },
                        "404": _EXCEPTION,
                    },
                }
            },
            "/collections/{collectionId}/items": {
                get: {
                    "operationId": "getFeatures",
                    "parameters": _items_parameters(),
                    "responses": {
                        "200": {"description": "Features", "content": _GEOJSON},
                        "400": _EXCEPTION,
                        "404": _EXCEPTION,
                    },
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                get: {
                    "operationId": "getFeature",
                    "parameters": [
                        {"$ref": "#/components/parameters/collectionId"},
                        _param("featureId", "Feature id", {"type": "string"}, "path", required=True),
                        _param("crs", "CRS of the output geometry", _crs_schema()),
                    ],
                    "responses": {"200": {"description": "Feature", "content": _GEOJSON}, "404": _EXCEPTION},
                }
            },
            **per_collection,
        },
        "components": {
            "parameters": {
                "collectionId": _param(
                    "collectionId",
                    "Collection id",
                    {"type": "string", "enum": [layer.slug for layer in layers]},
                    "path",
                    required=True,
                )
            }
        },
    }
