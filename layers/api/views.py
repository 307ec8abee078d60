"""REST API /api/v1/: the layer catalog and the features of every layer (GeoJSON or CSV), with writes.

Reads take the SQL path of layers.query (GeoJSON pages assembled by PostGIS); writes go through the ORM
in layers.api.editing so that model validation, the permission module and the audit trail all apply.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_ioc import permissions
from gis_ioc.lib import tabular
from layers import query as q
from layers.api import editing
from layers.api.params import parse_feature_query
from layers.models import Layer


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data, ensure_ascii=False).encode() if data is not None else b""


# --- the catalog ------------------------------------------------------------------------------


class LayerSerializer(serializers.ModelSerializer):
    """A catalog entry as this user sees it: only the attributes they may see."""

    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    attributes = serializers.SerializerMethodField()
    editable = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Layer
        fields = [
            "slug",
            "title",
            "title_vi",
            "title_en",
            "description",
            "kind",
            "geometry_type",
            "temporal_field",
            "search_fields",
            "attributes",
            "style",
            "legend",
            "attribution",
            "min_zoom",
            "max_zoom",
            "version",
            "data_updated_at",
            "editable",
            "links",
        ]

    def _user(self) -> permissions.AnyUser:
        request = self.context.get("request")
        return request.user if request is not None else None

    def get_attributes(self, layer: Layer) -> list[dict[str, Any]]:
        visible = set(permissions.visible_fields(self._user(), layer, "rest"))
        keep = ("name", "title_vi", "title_en", "type")
        return [{k: a.get(k) for k in keep} for a in layer.attributes or [] if a.get("name") in visible]

    def get_editable(self, layer: Layer) -> bool:
        return permissions.can_edit_layer(self._user(), layer)

    def get_links(self, layer: Layer) -> dict[str, str]:
        request = self.context.get("request")
        build = request.build_absolute_uri if request is not None else (lambda p: p)
        links = {"self": build(f"/api/v1/layers/{layer.slug}/")}
        if layer.kind == Layer.Kind.VECTOR:
            links["features"] = build(f"/api/v1/layers/{layer.slug}/features/")
            links["ogc"] = build(f"/ogc/collections/{layer.slug}")
        return links


class LayerFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Layer.Kind.choices)
    q = filters.CharFilter(method="search", label="search in titles")

    class Meta:
        model = Layer
        fields = ["kind"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        from django.db.models import Q

        return queryset.filter(Q(title_vi__icontains=value) | Q(title_en__icontains=value) | Q(slug__icontains=value))


class LayerList(generics.ListAPIView):
    """The layer catalog as the user may see it."""

    serializer_class = LayerSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = LayerFilter
    pagination_class = None

    def get_queryset(self) -> Any:
        return Layer.objects.visible_to(self.request.user)


class LayerDetail(generics.RetrieveAPIView):
    """One catalog entry (404 when the user may not see it)."""

    serializer_class = LayerSerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return Layer.objects.visible_to(self.request.user)


# --- features ---------------------------------------------------------------------------------

FEATURE_LIST_PARAMS = [
    OpenApiParameter("bbox", str, description="minx,miny,maxx,maxy (in bbox-crs; default CRS84 lon/lat)"),
    OpenApiParameter("bbox-crs", str, description="CRS URI of bbox, e.g. http://www.opengis.net/def/crs/EPSG/0/5899"),
    OpenApiParameter("crs", str, description="CRS URI of output geometries"),
    OpenApiParameter("commune", str, description="GSO commune code(s), comma-separated"),
    OpenApiParameter("q", str, description="Accent-insensitive text search on the layer's search fields"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Start of the range on the layer's temporal field"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="End of the range (inclusive)"),
    OpenApiParameter(
        "<field>", str, description="Equality on a whitelisted field; also <field>__gte/__lte/__gt/__lt/__in/__ne"
    ),
    OpenApiParameter("filter", str, description="CQL2 filter (text or JSON, see filter-lang)"),
    OpenApiParameter("ordering", str, description="Comma-separated fields, '-' for descending"),
    OpenApiParameter("fields", str, description="Comma-separated fields to return"),
    OpenApiParameter("limit", int, description="Page size (1–10000, default 100)"),
    OpenApiParameter("offset", int, description="Features to skip"),
    OpenApiParameter("count", str, enum=["exact", "estimate"], description="'exact' for an exact numberMatched"),
    OpenApiParameter("format", str, enum=["geojson", "csv"], description="Output format"),
]
FEATURE_SCHEMA = inline_serializer(
    "Feature",
    {"type": serializers.CharField(), "geometry": serializers.JSONField(), "properties": serializers.DictField()},
)


def _layer_or_404(slug: str, user: permissions.AnyUser) -> Layer:
    try:
        return q.get_layer(slug, user)
    except q.LayerNotFound:
        raise NotFound(_("Không có lớp dữ liệu này.")) from None


def _bad_request(exc: q.QueryError) -> Response:
    return Response({"code": exc.code, "parameter": exc.parameter, "description": exc.description}, status=400)


def _page_url(request: Request, offset: int) -> str:
    params = request.query_params.copy()
    params["offset"] = str(offset)
    return request.build_absolute_uri(request.path) + "?" + params.urlencode()


class FeatureList(APIView):
    """Features of a layer: GeoJSON (assembled in PostGIS) or CSV; POST creates one on editable layers."""

    renderer_classes = [GeoJSONRenderer, JSONRenderer, CSVRenderer]

    @extend_schema(parameters=FEATURE_LIST_PARAMS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str) -> HttpResponse | Response:
        layer = _layer_or_404(slug, request.user)
        try:
            query = parse_feature_query(request.query_params, layer, request.user)
            if request.query_params.get("format") == "csv":
                return self._csv(layer, request, query)
            page = q.features_page(layer, request.user, query, "rest")
        except q.QueryError as exc:
            return _bad_request(exc)
        meta: dict[str, Any] = {
            "numberReturned": page.number_returned,
            "numberMatched": page.number_matched,
            "numberMatchedIsEstimate": page.matched_is_estimate,
            "next": _page_url(request, query.offset + query.limit) if page.has_next else None,
            "previous": _page_url(request, max(0, query.offset - query.limit)) if query.offset > 0 else None,
        }
        body = '{"type":"FeatureCollection","features":' + page.features_json + "," + json.dumps(meta)[1:]
        response = HttpResponse(body, content_type="application/geo+json")
        response["Content-Crs"] = f"<{query.crs.uri}>"
        return response

    def _csv(self, layer: Layer, request: Request, query: q.FeatureQuery) -> StreamingHttpResponse:
        rows = q.feature_rows(layer, request.user, query, "rest")
        header = next(rows)  # runs the permission checks and parsing before the response starts
        response = StreamingHttpResponse(tabular.stream_csv(header, rows), content_type=tabular.CSVWriter.content_type)
        response["Content-Disposition"] = f'attachment; filename="{layer.slug}.csv"'
        return response

    @extend_schema(request=FEATURE_SCHEMA, responses={201: FEATURE_SCHEMA})
    def post(self, request: Request, slug: str) -> HttpResponse:
        layer = _layer_or_404(slug, request.user)
        instance = editing.create_feature(layer, request.user, request.data)
        return _feature_response(layer, request, instance.pk, status.HTTP_201_CREATED)


def _feature_response(layer: Layer, request: Request, fid: Any, status_code: int = 200) -> HttpResponse:
    try:
        crs = q.parse_crs(request.query_params.get("crs"), "crs")
    except q.QueryError as exc:
        return _bad_request(exc)
    text = q.feature_json(layer, request.user, str(fid), crs, "rest")
    if text is None:
        raise NotFound(_("Không có đối tượng %(id)s.") % {"id": str(fid)[:40]})
    response = HttpResponse(text, content_type="application/geo+json", status=status_code)
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


class FeatureDetail(APIView):
    """One feature: GET, PUT/PATCH (editable layers), DELETE."""

    renderer_classes = [GeoJSONRenderer, JSONRenderer]

    @extend_schema(
        operation_id="v1_layers_feature_retrieve",
        parameters=[OpenApiParameter("crs", str)],
        responses={200: FEATURE_SCHEMA},
    )
    def get(self, request: Request, slug: str, fid: str) -> HttpResponse:
        layer = _layer_or_404(slug, request.user)
        return _feature_response(layer, request, fid)

    @extend_schema(request=FEATURE_SCHEMA, responses={200: FEATURE_SCHEMA})
    def put(self, request: Request, slug: str, fid: str) -> HttpResponse:
        layer = _layer_or_404(slug, request.user)
        instance = editing.update_feature(layer, request.user, fid, request.data, partial=False)
        return _feature_response(layer, request, instance.pk)

    @extend_schema(request=FEATURE_SCHEMA, responses={200: FEATURE_SCHEMA})
    def patch(self, request: Request, slug: str, fid: str) -> HttpResponse:
        layer = _layer_or_404(slug, request.user)
        instance = editing.update_feature(layer, request.user, fid, request.data, partial=True)
        return _feature_response(layer, request, instance.pk)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, fid: str) -> Response:
        layer = _layer_or_404(slug, request.user)
        editing.delete_feature(layer, request.user, fid)
        return Response(status=status.HTTP_204_NO_CONTENT)
