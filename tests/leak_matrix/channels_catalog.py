"""Catalog and side doors of the leak matrix: the REST catalog, OGC collections and queryables, the export
form, the dashboard's embedded catalog, commune outlines (dashboard, admin map, field app), the staff
desk's CSV and field-report photos."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from tests.leak_matrix.channels import Cell, Channel, absent
from tests.leak_matrix.observe import Expected, Observed, communes_of


def _present(names: set[str] | frozenset[str] | None = None) -> Observed:
    return Observed(False, 200, fields=frozenset(names or ()))


class RestCatalog(Channel):
    """/api/v1/layers/ (the list) and /api/v1/layers/<slug>/: the entry and its attribute names."""

    name = "rest-catalog"
    meta = True
    kinds = frozenset({"vector", "raster"})
    routes = ("api/v1/layers/", "api/v1/layers/<slug:slug>/")

    def fetch(self, cell: Cell) -> Observed:
        listing = cell.memo("rest-catalog", lambda: cell.client.get("/api/v1/layers/"))
        listed = listing.status_code == 200 and any(e["slug"] == cell.slug for e in listing.json())
        r = cell.client.get(f"/api/v1/layers/{cell.slug}/")
        if r.status_code != 200:
            return absent(r.status_code) if not listed else Observed(False, 200, note="listed, detail refused")
        seen = _present({a["name"] for a in r.json().get("attributes", [])})
        if not listed:
            seen.note = "detail served but not listed"
        return seen


class OgcCollections(Channel):
    """/ogc/collections (listed) and /ogc/collections/<id>/queryables (the properties a filter may use)."""

    name = "ogc-collections"
    meta = True
    policy = "ogc"
    routes = ("ogc/collections", "ogc/collections/<slug:collection_id>/queryables")

    def serves(self, cell: Cell) -> bool:
        return True

    def fetch(self, cell: Cell) -> Observed:
        listing = cell.memo("ogc-collections", lambda: cell.client.get("/ogc/collections", {"f": "json"}).json())
        listed = any(c["id"] == cell.slug for c in listing.get("collections", []))
        r = cell.client.get(f"/ogc/collections/{cell.slug}/queryables", {"f": "json"})
        if r.status_code != 200:
            return absent(r.status_code) if not listed else Observed(False, 200, note="listed, queryables refused")
        return _present(set(r.json().get("properties", {})) - {"geometry"})


class ExportsPage(Channel):
    """/exports/: the form offers the layers this user may export (a page for signed-in people)."""

    name = "exports-page"
    meta = True
    routes = ("exports/",)
    may_hide = True

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        r = cell.memo("exports-page", lambda: cell.client.get("/exports/"))
        if r.status_code != 200 or f'<option value="{cell.slug}"' not in r.content.decode():
            return absent(404 if r.status_code in (200, 302) else r.status_code, "not offered")
        return _present()


def _json_script(html: str, element_id: str) -> Any:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1)) if match else None


class DashboardCatalog(Channel):
    """The map page (/) embeds the layer switcher: each layer the user may see, with its fields."""

    name = "dashboard-catalog"
    meta = True
    policy = "dashboard"
    kinds = frozenset({"vector", "raster"})
    routes = ("",)

    def serves(self, cell: Cell) -> bool:
        return cell.layer.kind == "raster" or bool(cell.layer.geometry_type)

    def fetch(self, cell: Cell) -> Observed:
        catalog = cell.memo("home", lambda: _json_script(cell.client.get("/").content.decode(), "catalog")) or []
        entry = next((e for e in catalog if e["slug"] == cell.slug), None)
        if entry is None:
            return absent(404, "not in the switcher")
        return _present({f["name"] for f in entry.get("fields", [])})

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        if cell.layer.kind == "raster":
            expected.fields = frozenset()
        return expected


# --- commune outlines -------------------------------------------------------------------------------------
class CommuneOutlines(Channel):
    """/dashboard/api/communes: the outlines of the communes a user may see (the communes layer)."""

    name = "dashboard-communes"
    only_slugs = frozenset({"communes"})
    routes = ("dashboard/api/communes",)
    url = "/dashboard/api/communes"

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = expected.allowed_fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(self.url)
        if r.status_code != 200:
            return absent(r.status_code)
        features = r.json().get("features", [])
        codes = {f["properties"]["code"] for f in features}
        ids = {str(cid) for code, cid in _commune_ids().items() if code in codes}
        return Observed(False, 200, frozenset(ids), len(ids), None, frozenset(codes))


class CommunePages(Channel):
    """/communes/<code>/ (the map opened on a commune), /reports/communes/<code>/ (its printable report) and the
    index /communes/ linking to them: a commune the user may not see does not exist, nor is it listed."""

    name = "commune-pages"
    only_slugs = frozenset({"communes"})
    routes = ("communes/", "communes/<str:code>/", "reports/communes/<str:code>/")

    def expect(self, cell: Cell) -> Expected:
        from tests.leak_matrix.world import WORLD_COMMUNES

        expected = super().expect(cell)
        expected.rows = frozenset(r.id for r in cell.visible_rows() if r.scope_commune in WORLD_COMMUNES)
        expected.fields = expected.allowed_fields = frozenset()
        expected.communes = frozenset(c for c in expected.communes if c in WORLD_COMMUNES)
        return expected

    def fetch(self, cell: Cell) -> Observed:
        from tests.leak_matrix.world import WORLD_COMMUNES

        ids = _commune_ids()
        served: set[str] = set()
        statuses = set()
        for code in WORLD_COMMUNES:
            for url in (f"/communes/{code}/", f"/reports/communes/{code}/"):
                r = cell.client.get(url)
                statuses.add(r.status_code)
                if r.status_code == 200:
                    served.add(code)
        index = cell.client.get("/communes/")
        statuses.add(index.status_code)
        if index.status_code == 200:
            listed = re.findall(r'href="/communes/([0-9]+)/"', index.content.decode())
            served.update(code for code in listed if code in WORLD_COMMUNES)
        if not served:
            return absent(max(statuses))
        return Observed(False, 200, frozenset(str(ids[c]) for c in served), len(served), None, frozenset(served))


def _commune_ids() -> dict[str, int]:
    from gis_ioc.models import AdminUnit

    return dict(AdminUnit.objects.current().communes().values_list("code", "id"))


class AdminCommuneOutlines(CommuneOutlines):
    """The admin map's reference layer (staff pages only: refusing others is no finding)."""

    name = "admin-communes"
    routes = ("admin/communes.geojson",)
    url = "/admin/communes.geojson"
    may_hide = True
    denial_ok = True


class FieldCommuneOutlines(CommuneOutlines):
    """The field app's offline base map."""

    name = "field-communes"
    routes = ("field/api/communes.geojson",)
    url = "/field/api/communes.geojson"
    may_hide = True
    denial_ok = True


# --- petitions staff --------------------------------------------------------------------------------------
DESK_FIELDS = ("tracking_code", "category", "status", "commune_code", "received_at", "resolved_at", "description",
               "reporter_name", "reporter_phone")  # fmt: skip


class DeskCSV(Channel):
    """/petitions/desk/export.csv: the petitions desk (petition staff only), rows and personal columns."""

    name = "desk-csv"
    only_slugs = frozenset({"petitions"})
    omits_nulls = True
    routes = ("petitions/desk/export.csv", "petitions/desk/")
    denial_ok = True  # the desk names no layer: refusing a citizen with 403 reveals nothing

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        return names & frozenset(DESK_FIELDS)

    def expect(self, cell: Cell) -> Expected:
        from gis_ioc import permissions

        if not permissions.can_manage_petitions(cell.user):
            return Expected(False, denial_ok=True)
        return super().expect(cell)

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get("/petitions/desk/export.csv")
        if r.status_code != 200:
            return absent(r.status_code)
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        header, data = lines[0], [line for line in lines[1:] if line]
        idx = {h: i for i, h in enumerate(header)}
        from petitions.models import Petition

        ids = dict(Petition.objects.values_list("tracking_code", "pk"))
        rows = frozenset(str(ids[line[idx["tracking_code"]]]) for line in data)
        points = [f"POINT({line[idx['lon']]} {line[idx['lat']]})" for line in data]
        names = frozenset(h for h in header if h in DESK_FIELDS and any(line[idx[h]] for line in data))
        return Observed(False, 200, rows, len(rows), names | {"tracking_code"}, communes_of(points, "ST_GeomFromText"))


def _world_codes() -> dict[str, str]:
    """Tracking code -> id of the world's petitions."""
    from petitions.models import Petition
    from tests.leak_matrix.world import TRACKING_PREFIX

    world = Petition.objects.filter(tracking_code__startswith=TRACKING_PREFIX)
    return {code: str(pk) for code, pk in world.values_list("tracking_code", "pk")}


class DeskDetail(Channel):
    """/petitions/desk/<code>/: one petition's page on the staff desk (petition staff, in their communes)."""

    name = "desk-detail"
    only_slugs = frozenset({"petitions"})
    routes = ("petitions/desk/<str:code>/",)
    denial_ok = True

    def expect(self, cell: Cell) -> Expected:
        from gis_ioc import permissions

        if not permissions.can_manage_petitions(cell.user):
            return Expected(False, denial_ok=True)
        expected = super().expect(cell)
        expected.fields = expected.allowed_fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        codes = _world_codes()
        seen = set()
        for code, pk in codes.items():
            r = cell.client.get(f"/petitions/desk/{code}/")
            if r.status_code != 200:
                continue
            seen.add(pk)
            # Petitions the page names (similar ones, duplicates) are shown too: they must be visible as well.
            named = re.findall(r'href="/petitions/desk/(PA-[A-Z0-9]+)/"', r.content.decode())
            seen.update(codes[c] for c in named if c in codes)
        if not seen:
            return absent(404)
        return Observed(False, 200, frozenset(seen), len(seen))


class Escalations(Channel):
    """The leaders' escalation list (/api/v1/petitions/escalations/ and its page): overdue, reopened and
    poorly rated petitions, for leaders, in their communes."""

    name = "escalations"
    only_slugs = frozenset({"petitions"})
    routes = ("api/v1/petitions/escalations/", "petitions/desk/escalations/")
    denial_ok = True

    def expect(self, cell: Cell) -> Expected:
        from gis_ioc import permissions, roles
        from petitions.models import Petition

        if not permissions.has_role(cell.user, roles.LEADER):
            return Expected(False, denial_ok=True)
        expected = super().expect(cell)
        escalated = {str(pk) for pk in Petition.objects.escalations().values_list("pk", flat=True)}
        rows = expected.rows & escalated
        communes = frozenset(r.geo_commune for r in cell.visible_rows() if r.id in rows and r.geo_commune)
        return Expected(bool(rows), rows, frozenset(), communes, denial_ok=True)

    def fetch(self, cell: Cell) -> Observed:
        codes = _world_codes()
        r = cell.client.get("/api/v1/petitions/escalations/")
        page = cell.client.get("/petitions/desk/escalations/")
        rows: set[str] = set()
        communes: set[str] = set()
        if r.status_code == 200:
            for item in r.json()["results"]:
                if item["tracking_code"] in codes:
                    rows.add(codes[item["tracking_code"]])
                    communes.add(item["commune_code"])
        if page.status_code == 200:
            html = page.content.decode()
            rows |= {pk for code, pk in codes.items() if code in html}
        if not rows:
            return absent(max(r.status_code, page.status_code))
        return Observed(False, 200, frozenset(rows), len(rows), None, frozenset(communes))


class FieldReportPhotos(Channel):
    """Photos of officers' field reports (public copy and original): evidence about a petition, for the
    staff entitled to that petition's private data."""

    name = "field-report-photos"
    only_slugs = frozenset({"petitions"})
    routes = ("petitions/photos/<uuid:key>/<str:kind>.jpg",)
    denial_ok = True

    def expect(self, cell: Cell) -> Expected:
        from gis_ioc import permissions
        from petitions.models import Petition

        expected = super().expect(cell)
        if not expected.visible:
            return expected
        reported = set(Petition.objects.filter(field_reports__attachments__isnull=False).values_list("pk", flat=True))
        allowed = {
            str(p.pk)
            for p in Petition.objects.filter(pk__in=[int(i) for i in expected.rows if int(i) in reported])
            if permissions.can_view_petition_private(cell.user, p)
        }
        return Expected(bool(allowed), frozenset(allowed), denial_ok=True)

    def fetch(self, cell: Cell) -> Observed:
        from django.urls import reverse

        from petitions.models import Attachment

        served, statuses = set(), set()
        for att in Attachment.objects.filter(report__isnull=False).select_related("report"):
            for kind in ("public", "original"):
                r = cell.client.get(reverse("petitions:attachment", args=[att.key, kind]))
                statuses.add(r.status_code)
                if r.status_code == 200:
                    served.add(str(att.report.petition_id))
        if not served:
            return absent(max(statuses) if statuses else None)
        return Observed(False, 200, frozenset(served), len(served))


class PlanningZones(Channel):
    """/planning/api/plans/<id>/zones: a plan's zones for the planners' comparison maps."""

    name = "planning-zones-api"
    policy = "dashboard"
    only_slugs = frozenset({"planning-zones"})
    routes = ("planning/api/plans/<int:plan_id>/zones",)
    SHOWN = frozenset({"zone_code", "land_use", "commune_code", "max_density", "max_height"})

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        return names & self.SHOWN

    def fetch(self, cell: Cell) -> Observed:
        from layers.models import PlanningPlan
        from tests.leak_matrix.observe import geojson_features

        features: list[dict[str, Any]] = []
        statuses = set()
        for plan_id in PlanningPlan.objects.values_list("pk", flat=True):
            r = cell.client.get(f"/planning/api/plans/{plan_id}/zones")
            statuses.add(r.status_code)
            if r.status_code == 200:
                features += r.json().get("features", [])
        if not features:
            return absent(max(statuses) if statuses else None)
        return geojson_features(json.dumps({"features": features}))


class Analyses(Channel):
    """/api/v1/analyses/ and /api/v1/analyses/<id>/: an analysis names its result layer and carries
    statistics rows by commune. Rows observed are `<table>:<commune>` ("-" for a row without commune); the
    field `result_layer` is the layer's name showing."""

    name = "analyses-api"
    only_slugs = frozenset({"lm-analysis"})
    routes = ("api/v1/analyses/", "api/v1/analyses/<int:pk>/")
    denial_ok = True  # the record is not the layer: a 401/403 names nothing

    def expect(self, cell: Cell) -> Expected:
        from analysis import service
        from analysis.models import Analysis
        from tests.leak_matrix import oracle

        if not service.can_view(cell.user):
            return Expected(False, denial_ok=True)
        limit = oracle.scope(cell.user)
        rows = set()
        for analysis in Analysis.objects.filter(result_layer=cell.layer):
            for table in analysis.statistics:
                for row in table["rows"]:
                    code = row.get("commune_code") or ""
                    if limit is None or code in limit:
                        rows.add(f"{table['key']}:{code or '-'}")
        names = frozenset({"result_layer"}) if oracle.can_view(cell.user, cell.layer) else frozenset()
        communes = frozenset(r.split(":")[1] for r in rows) - {"-"}
        return Expected(True, frozenset(rows), names, communes, denial_ok=True)

    def fetch(self, cell: Cell) -> Observed:
        from analysis.models import Analysis

        rows: set[str] = set()
        names: set[str] = set()
        statuses = set()
        for pk in Analysis.objects.filter(result_layer=cell.layer).values_list("pk", flat=True):
            listing = cell.client.get("/api/v1/analyses/", {"ids": str(pk)})
            r = cell.client.get(f"/api/v1/analyses/{pk}/")
            statuses |= {listing.status_code, r.status_code}
            if listing.status_code == 200:
                if any(a.get("result_layer") or a.get("links") for a in listing.json()["results"]):
                    names.add("result_layer")
            if r.status_code == 200:
                data = r.json()
                if data.get("result_layer") or data.get("links"):
                    names.add("result_layer")
                for table in data.get("statistics", []):
                    rows |= {f"{table['key']}:{row.get('commune_code') or '-'}" for row in table["rows"]}
        if not (statuses & {200}):
            return absent(max(statuses) if statuses else None)
        communes = frozenset(r.split(":")[1] for r in rows) - {"-"}
        return Observed(False, 200, frozenset(rows), len(rows), frozenset(names), communes)


class PlanningConflicts(Channel):
    """/planning/api/plans/<id>/conflicts?commune=: parcels whose use differs from the plan (planners'
    comparison), one commune at a time; rows are the parcels the world was built to conflict."""

    name = "planning-conflicts"
    policy = "dashboard"
    only_slugs = frozenset({"land-parcels"})
    routes = ("planning/api/plans/<int:plan_id>/conflicts",)
    SHOWN = frozenset({"commune_code", "sheet_number", "parcel_number", "land_use"})

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        return names & self.SHOWN

    def expect(self, cell: Cell) -> Expected:
        from tests.leak_matrix.world import conflicting_parcels

        expected = super().expect(cell)
        conflicts = conflicting_parcels()
        rows = [r for r in cell.visible_rows() if r.id in conflicts]
        expected.rows = frozenset(r.id for r in rows)
        expected.communes = frozenset(r.geo_commune for r in rows if r.geo_commune)
        expected.visible = expected.visible and bool(rows)
        return expected

    def fetch(self, cell: Cell) -> Observed:
        from layers.models import PlanningPlan
        from tests.leak_matrix.observe import geojson_features
        from tests.leak_matrix.world import WORLD_COMMUNES

        features: list[dict[str, Any]] = []
        statuses = set()
        for plan_id in PlanningPlan.objects.values_list("pk", flat=True):
            for code in WORLD_COMMUNES:
                r = cell.client.get(f"/planning/api/plans/{plan_id}/conflicts", {"commune": code})
                statuses.add(r.status_code)
                if r.status_code == 200:
                    features += r.json().get("features", [])
        if not features:
            return absent(max(statuses) if statuses else None)
        seen = geojson_features(json.dumps({"features": features}))
        # The plan's own (public) fields and the key are not parcel attributes.
        seen.fields = frozenset(seen.fields or ()) - {"id", "planned_land_use", "zone_code"}
        return seen


CATALOG_CHANNELS: list[type[Channel]] = [
    RestCatalog,
    OgcCollections,
    ExportsPage,
    DashboardCatalog,
    CommuneOutlines,
    AdminCommuneOutlines,
    FieldCommuneOutlines,
    DeskCSV,
    FieldReportPhotos,
    PlanningZones,
    DeskDetail,
    Escalations,
    Analyses,
    CommunePages,
    PlanningConflicts,
]
