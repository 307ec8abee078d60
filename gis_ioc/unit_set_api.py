"""REST API of unit sets and crosswalks (/api/v1/unit-sets/, /api/v1/crosswalks/, a unit's history).

Boundaries are the reference data of the communes layer: whoever may see that catalog layer may read the
sets, their members and the history of a unit (the same rule as every channel, gis_ioc.permissions);
nobody else learns they exist (404). Importing a crosswalk needs the `gis_ioc.add_crosswalk` permission
(GIS staff and administrators, gis_ioc/roles.py) and answers 201 with what changed, or 400 listing every
problem with nothing written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_ioc import permissions
from gis_ioc.models import AdminUnit, Crosswalk, CrosswalkRow, Level, UnitSet
from gis_ioc.unit_sets import CrosswalkError

UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def _check_boundaries_visible(request: Request) -> None:
    """Boundaries are shown by the communes catalog layer: no such visible layer, no unit sets."""
    from layers.models import Layer

    layer = Layer.objects.filter(slug="communes").first()
    if layer is None or not permissions.can_view_layer(request.user, layer):
        raise Http404(_("Không có bộ đơn vị nào."))


def set_as_dict(unit_set: UnitSet, language: str | None = None, members: int | None = None) -> dict[str, Any]:
    return {
        "slug": unit_set.slug,
        "name": unit_set.title(language),
        "name_vi": unit_set.name,
        "name_en": unit_set.name_en,
        "level": unit_set.level,
        "kind": unit_set.kind,
        "valid_from": unit_set.valid_from.isoformat() if unit_set.valid_from else None,
        "valid_to": unit_set.valid_to.isoformat() if unit_set.valid_to else None,
        "legal_basis": unit_set.legal_basis,
        "members": members,
    }


def unit_as_dict(unit: AdminUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "valid_from": unit.valid_from.isoformat(),
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "area_km2": round(unit.area_km2, 3),
    }


def history(code: str, level: str = Level.COMMUNE) -> list[dict[str, Any]]:
    """Every version of a unit, oldest first: its period, what it was made of and what it became, and by
    which decision (from the crosswalks). Shared by the API and the commune profile."""
    versions = list(AdminUnit.objects.filter(code=code, level=level).order_by("valid_from"))
    rows = CrosswalkRow.objects.select_related("crosswalk", "old_unit", "new_unit").filter(
        new_unit__in=versions
    ) | CrosswalkRow.objects.select_related("crosswalk", "old_unit", "new_unit").filter(old_unit__in=versions)
    made_of: dict[int, list[dict[str, Any]]] = {}
    became: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row.old_unit_id == row.new_unit_id:
            continue  # left alone by that reform
        step = {
            "date": row.crosswalk.effective_date.isoformat(),
            "legal_basis": row.legal_basis or row.crosswalk.legal_basis,
            "area_share": row.area_share,
            "population_share": row.population_share,
        }
        made_of.setdefault(row.new_unit_id, []).append({**unit_as_dict(row.old_unit), **step})
        became.setdefault(row.old_unit_id, []).append({**unit_as_dict(row.new_unit), **step})
    return [
        {**unit_as_dict(v), "made_of": made_of.get(v.id, []), "became": became.get(v.id, []), "source": v.source}
        for v in versions
    ]


class UnitSetList(APIView):
    """GET: every unit set (administrative with a period, or statistical), with its member count."""

    def get(self, request: Request) -> Response:
        _check_boundaries_visible(request)
        language = getattr(request, "LANGUAGE_CODE", None)
        sets = UnitSet.objects.annotate(n=Count("members")).order_by("level", "valid_from", "slug")
        return Response({"unit_sets": [set_as_dict(s, language, s.n) for s in sets]})


class UnitSetDetail(APIView):
    """GET: one set and its units; `features/` gives them as GeoJSON features with their boundaries."""

    as_features = False

    def get(self, request: Request, slug: str) -> Response:
        _check_boundaries_visible(request)
        unit_set = UnitSet.objects.filter(slug=slug).first()
        if unit_set is None:
            raise Http404(_("Không có bộ đơn vị “%(slug)s”.") % {"slug": slug})
        members = list(unit_set.members.order_by("code"))
        body = set_as_dict(unit_set, getattr(request, "LANGUAGE_CODE", None), len(members))
        if self.as_features:
            return Response(
                {
                    "type": "FeatureCollection",
                    "unit_set": body,
                    "features": [
                        {"type": "Feature", "id": u.code, "properties": unit_as_dict(u), "geometry": _geojson(u.geom)}
                        for u in members
                    ],
                }
            )
        body["units"] = [unit_as_dict(u) for u in members]
        return Response(body)


def _geojson(geom: GEOSGeometry) -> Any:
    import json

    return json.loads(geom.json)


def crosswalk_as_dict(crosswalk: Crosswalk, rows: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": crosswalk.pk,
        "from": crosswalk.from_set.slug,
        "to": crosswalk.to_set.slug,
        "effective_date": crosswalk.effective_date.isoformat(),
        "legal_basis": crosswalk.legal_basis,
        "source": crosswalk.source,
        "imported_at": crosswalk.imported_at.isoformat(),
        "refile": {
            "status": crosswalk.refile_status,
            "percent": crosswalk.refile_percent,
            "report": crosswalk.refile_report,
        },
    }
    if rows:
        body["rows"] = [
            {
                "row": r.row,
                "old_code": r.old_unit.code,
                "old_name": r.old_unit.name,
                "new_code": r.new_unit.code,
                "new_name": r.new_unit.name,
                "area_share": r.area_share,
                "population_share": r.population_share,
                "legal_basis": r.legal_basis,
            }
            for r in crosswalk.rows.select_related("old_unit", "new_unit")
        ]
    return body


class CrosswalkList(APIView):
    """GET: the crosswalks imported so far. POST (multipart `file` [+ `boundaries`, `from`]): import one."""

    parser_classes = [MultiPartParser, FormParser]

    def get(self, request: Request) -> Response:
        _check_boundaries_visible(request)
        crosswalks = Crosswalk.objects.select_related("from_set", "to_set")
        return Response({"crosswalks": [crosswalk_as_dict(c) for c in crosswalks]})

    def post(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        if not request.user.has_perm("gis_ioc.add_crosswalk"):
            raise PermissionDenied(_("Chỉ cán bộ GIS và quản trị viên được nhập bảng chuyển đổi đơn vị."))
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Hãy gửi tệp bảng chuyển đổi (CSV hoặc XLSX) trong trường “file”.")]})
        for name, item in (("file", upload), ("boundaries", request.FILES.get("boundaries"))):
            if item is not None and item.size > UPLOAD_MAX_BYTES:
                raise ValidationError({name: [_("Tệp quá lớn (tối đa 20 MB).")]})
        results = import_uploaded(
            upload, request.FILES.get("boundaries"), request.data.get("from") or None, request.user
        )
        return Response(
            {
                "crosswalks": [crosswalk_as_dict(r.crosswalk) for r in results],
                "summary": [line for r in results for line in r.lines()],
            },
            status=status.HTTP_201_CREATED,
        )


def import_uploaded(upload: Any, boundaries: Any, from_set: str | None, user: Any) -> list[Any]:
    """Save the uploads to a private temporary folder and import; CrosswalkError → 400 with the problems.
    Shared by the API and the admin's upload page."""
    from gis_ioc.admin_units import AdminUnitLoadError
    from gis_ioc.boundary_files import read_units
    from gis_ioc.crosswalks import import_crosswalk, read_crosswalk

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        try:
            rows = read_crosswalk(path, upload.name)
            units = None
            if boundaries is not None:
                geo = Path(folder) / ("b_" + Path(boundaries.name).name)
                with geo.open("wb") as out:
                    for chunk in boundaries.chunks():
                        out.write(chunk)
                units = read_units(str(geo), code_field="code", name_field="name")
            return import_crosswalk(rows, source=upload.name, from_set=from_set, boundaries=units, user=user)
        except CrosswalkError as exc:
            raise ValidationError({"problems": exc.problems}) from None
        except (AdminUnitLoadError, ValueError) as exc:
            raise ValidationError({"problems": [str(exc).replace(folder, "")]}) from None


class CrosswalkDetail(APIView):
    """GET: one crosswalk with its rows and the progress of the job filing records under the new units."""

    def get(self, request: Request, pk: int) -> Response:
        _check_boundaries_visible(request)
        crosswalk = Crosswalk.objects.select_related("from_set", "to_set").filter(pk=pk).first()
        if crosswalk is None:
            raise Http404(_("Không có bảng chuyển đổi số %(pk)s.") % {"pk": pk})
        return Response(crosswalk_as_dict(crosswalk, rows=True))


class UnitHistory(APIView):
    """GET: the versions of a commune code — what each was made of, what it became, since when, by which
    decision."""

    def get(self, request: Request, code: str) -> Response:
        _check_boundaries_visible(request)
        versions = history(code)
        if not versions:
            raise Http404(_("Không có đơn vị hành chính mã “%(code)s”.") % {"code": code})
        return Response({"code": code, "versions": versions})
