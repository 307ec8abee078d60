"""Dashboard and petition channels of the leak matrix: statistics (map, KPI cards), table downloads,
commune lists, the search box, Open311 (list and detail) and petition photos (public copy, original)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dashboard.data import PROFILE_LISTS
from tests.leak_matrix import oracle
from tests.leak_matrix.channels import START, Cell, Channel, absent
from tests.leak_matrix.observe import Expected, Observed, csv_table
from tests.leak_matrix.world import TRACKING_PREFIX, WORLD_COMMUNES


def _range() -> dict[str, str]:
    return {"start": START, "end": dt.date.today().isoformat()}


# --- statistics -------------------------------------------------------------------------------------------
def statistic_tables(world: Any) -> dict[str, frozenset[str]]:
    """Statistic code -> the tables its SQL reads, asked of PostgreSQL (EXPLAIN of the statement the
    statistic runs), not guessed from the SQL text."""
    if "stat-tables" in world.memo:
        return world.memo["stat-tables"]
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from layers import statistics

    out = {}
    for code in statistics.STATISTICS:
        with CaptureQueriesContext(connection) as ctx:
            statistics.commune_values(code, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        tables: set[str] = set()
        for query in ctx.captured_queries:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
                plan = cur.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            stack = list(plan)
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    if "Relation Name" in node:
                        tables.add(node["Relation Name"])
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
        out[code] = frozenset(tables)
    world.memo["stat-tables"] = out
    return out


class DashboardStatistics(Channel):
    """The statistics computed from the layer's table: /dashboard/api/stats (map) per statistic, and the KPI
    cards of /dashboard/api/view. Rows are statistic codes; communes are the communes given values."""

    name = "dashboard-statistics"
    routes = ("dashboard/api/stats", "dashboard/api/view")

    def _codes(self, cell: Cell) -> list[str]:
        table = cell.layer.db_table()
        return sorted(c for c, tables in statistic_tables(cell.world).items() if table in tables)

    def expect(self, cell: Cell) -> Expected:
        from layers import statistics

        tables = statistic_tables(cell.world)
        shown = {c for c in self._codes(cell) if oracle.statistic_visible(cell.user, tables[c])}
        rows = frozenset(shown | {f"kpi:{c}" for c in statistics.KPI_CODES if c in shown})
        communes = oracle.visible_communes(cell.user) if shown else frozenset()
        return Expected(bool(rows), rows, frozenset(), communes)

    def fetch(self, cell: Cell) -> Observed:
        codes = self._codes(cell)
        seen: set[str] = set()
        communes: set[str] = set()
        for code in codes:
            r = cell.memo(
                ("stat", code), lambda c=code: cell.client.get("/dashboard/api/stats", {"stat": c, **_range()})
            )
            if r.status_code == 200:
                seen.add(code)
                communes |= set(r.json()["values"])
        view = cell.memo("view", lambda: cell.client.get("/dashboard/api/view", _range()))
        if view.status_code == 200:
            seen |= {f"kpi:{k['key']}" for k in view.json().get("kpis", []) if k["key"] in codes}
        if not seen:
            return absent(404)
        return Observed(False, 200, frozenset(seen), len(seen), None, frozenset(communes))


# --- tables and lists -------------------------------------------------------------------------------------
def _tabular(cell: Cell) -> bool:
    """The dashboard's tables and lists read a model layer with a commune_code column."""
    return cell.layer.model_class() is not None and cell.source().commune_column == "commune_code"


class DashboardTable(Channel):
    """/dashboard/tables/<slug>.csv: headers are attribute titles (Vietnamese); the commune column when the
    user may see commune_code."""

    name = "dashboard-table"
    policy = "dashboard"
    routes = ("dashboard/tables/<slug:table>.<str:fmt>",)

    def serves(self, cell: Cell) -> bool:
        return _tabular(cell)

    def fetch(self, cell: Cell) -> Observed:
        from django.utils import translation

        r = cell.client.get(f"/dashboard/tables/{cell.slug}.csv", _range())
        if r.status_code != 200:
            return absent(r.status_code)
        seen = csv_table(r.content, None, "")
        with translation.override("vi"):
            by_title = {cell.layer.attribute_title(a["name"]): a["name"] for a in cell.layer.attributes}
        import csv
        import io

        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        names = [by_title.get(h, h) for h in (lines[0] if lines else [])]
        seen.fields = frozenset(names)
        # The commune column is there only when the user may see the commune_code field.
        at = names.index("commune_code") if "commune_code" in names else None
        seen.communes = frozenset(line[at] for line in lines[1:] if at is not None and len(line) > at and line[at])
        return seen

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        if "commune_code" in expected.fields:
            expected.communes = frozenset(r.scope_commune for r in cell.visible_rows() if r.scope_commune)
        else:
            expected.communes = frozenset()
        return expected


class DashboardLists(Channel):
    """/dashboard/api/communes/<code>/lists: a commune profile's lists (petitions, facilities, dossiers)."""

    name = "dashboard-lists"
    policy = "dashboard"
    only_slugs = frozenset(PROFILE_LISTS)
    routes = ("dashboard/api/communes/<str:code>/lists",)

    def serves(self, cell: Cell) -> bool:
        return _tabular(cell)

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.communes = frozenset(r.scope_commune for r in cell.visible_rows() if r.scope_commune)
        return expected

    def fetch(self, cell: Cell) -> Observed:
        def lists() -> dict[str, list[dict[str, Any]]]:
            out: dict[str, list[dict[str, Any]]] = {}
            for code in WORLD_COMMUNES:
                r = cell.client.get(f"/dashboard/api/communes/{code}/lists", _range())
                if r.status_code == 200:
                    for item in r.json()["lists"]:
                        out.setdefault(item["slug"], []).extend(item["rows"])
            return out

        rows = cell.memo("lists", lists).get(cell.slug)
        if rows is None:
            return absent(404)
        names = frozenset(k for row in rows for k in row if k != "id")
        return Observed(
            False, 200, frozenset(str(r["id"]) for r in rows), len(rows), names,
            frozenset(r["commune_code"] for r in rows if r.get("commune_code")),
        )  # fmt: skip


# --- search -----------------------------------------------------------------------------------------------
# What each kind of search result tells about its feature, as catalog field names.
SEARCH_FIELDS = {
    "communes": frozenset({"code", "name"}),
    "schools": frozenset({"name", "commune_code"}),
    "health-facilities": frozenset({"name", "commune_code"}),
    "land-parcels": frozenset({"sheet_number", "parcel_number", "commune_code", "land_use", "area_m2"}),
    "petitions": frozenset({"tracking_code", "category", "status", "commune_code"}),
}


class DashboardSearch(Channel):
    """/dashboard/api/search: queries that would find every row of the world, per kind."""

    name = "dashboard-search"
    policy = "dashboard"
    only_slugs = frozenset(SEARCH_FIELDS)
    routes = ("dashboard/api/search",)

    def serves(self, cell: Cell) -> bool:
        return cell.slug in SEARCH_FIELDS

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        return names & SEARCH_FIELDS.get(cell.slug, frozenset())

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        if cell.slug == "communes":  # the search looks up the three communes of the world by code
            expected.rows = frozenset(r.id for r in cell.visible_rows() if r.scope_commune in WORLD_COMMUNES)
            expected.communes = frozenset(c for c in expected.communes if c in WORLD_COMMUNES)
        return expected

    def fetch(self, cell: Cell) -> Observed:
        from gis_ioc.models import AdminUnit
        from layers.models import LandParcel

        def results() -> list[dict[str, Any]]:
            queries = [*WORLD_COMMUNES, "Trường", "Trạm Y tế", TRACKING_PREFIX]
            queries += [f"{p.commune_code} {p.sheet_number}/{p.parcel_number}" for p in LandParcel.objects.all()]
            found = []
            for text in queries:
                found += cell.client.get("/dashboard/api/search", {"q": text}).json()["results"]
            return found

        kind = "commune" if cell.slug == "communes" else cell.slug
        hits = [h for h in cell.memo("search", results) if h["kind"] == kind]
        if not hits:
            return absent(404, "no result")
        if kind == "commune":
            ids = dict(AdminUnit.objects.current().communes().values_list("code", "id"))
            rows = {str(ids[h["code"]]) for h in hits}
            communes = {h["code"] for h in hits}
        else:
            rows = {str(h["id"]) for h in hits}
            communes = {h["commune_code"] for h in hits if h.get("commune_code")}
        return Observed(False, 200, frozenset(rows), len(rows), SEARCH_FIELDS[cell.slug], frozenset(communes))


# --- petitions --------------------------------------------------------------------------------------------
OPEN311_FIELDS = {
    "description": "description",
    "service_request_id": "tracking_code",
    "service_code": "category",
    "requested_datetime": "received_at",
}


def _petition_ids() -> dict[str, str]:
    from petitions.models import Petition

    return {code: str(pk) for code, pk in Petition.objects.values_list("tracking_code", "pk")}


class Open311List(Channel):
    """/open311/v2/requests.json: rows by tracking code, catalog fields behind the Open311 names."""

    name = "open311-requests"
    routes = ("open311/v2/requests.<str:fmt>",)
    only_slugs = frozenset({"petitions"})
    omits_nulls = True

    def serves(self, cell: Cell) -> bool:
        return cell.slug == "petitions"

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        return names & frozenset(OPEN311_FIELDS.values())

    def _observe(self, items: list[dict[str, Any]]) -> Observed:
        ids = _petition_ids()
        rows = frozenset(ids[i["service_request_id"]] for i in items)
        names = frozenset(OPEN311_FIELDS[k] for i in items for k, v in i.items() if k in OPEN311_FIELDS and v)
        from tests.leak_matrix.observe import communes_of

        points = [f"POINT({i['long']} {i['lat']})" for i in items]
        return Observed(False, 200, rows, len(rows), names, communes_of(points, "ST_GeomFromText"))

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get("/open311/v2/requests.json", {"start_date": "2015-01-01T00:00:00+07:00", "page_size": 1000})
        if r.status_code != 200:
            return absent(r.status_code)
        items = [i for i in r.json() if i["service_request_id"].startswith(TRACKING_PREFIX)]
        return self._observe(items) if items else absent(404, "no request")


class Open311Detail(Open311List):
    name = "open311-request"
    routes = ("open311/v2/requests/<str:request_id>.<str:fmt>",)

    def fetch(self, cell: Cell) -> Observed:
        from petitions.models import Petition

        items = []
        for code in Petition.objects.filter(tracking_code__startswith=TRACKING_PREFIX).values_list(
            "tracking_code", flat=True
        ):
            r = cell.client.get(f"/open311/v2/requests/{code}.json")
            if r.status_code == 200:
                items += r.json()
        return self._observe(items) if items else absent(404, "no request")


class PhotoChannel(Channel):
    """Petition photos by their URL: rows are the petitions whose photo was served."""

    kind: str = "public"
    only_slugs = frozenset({"petitions"})
    denial_ok = True  # a photo's address is its unguessable key, not a layer name: a 403 reveals nothing more

    def serves(self, cell: Cell) -> bool:
        return cell.slug == "petitions"

    def fetch(self, cell: Cell) -> Observed:
        from django.urls import reverse

        from petitions.models import Attachment

        served, statuses = set(), set()
        for att in Attachment.objects.filter(petition__isnull=False):
            r = cell.client.get(reverse("petitions:attachment", args=[att.key, self.kind]))
            statuses.add(r.status_code)
            if r.status_code == 200:
                served.add(str(att.petition_id))
        if not served:
            return absent(max(statuses) if statuses else None)
        return Observed(False, 200, frozenset(served), len(served))


class PhotoPublic(PhotoChannel):
    name = "photo-public"
    routes = ("petitions/photos/<uuid:key>/<str:kind>.jpg",)
    kind = "public"


class PhotoOriginal(PhotoChannel):
    """The original keeps EXIF (evidence): only staff entitled to the petition's private data."""

    name = "photo-original"
    kind = "original"

    def expect(self, cell: Cell) -> Expected:
        from gis_ioc import permissions
        from petitions.models import Petition

        expected = super().expect(cell)
        if not expected.visible:
            return expected
        allowed = {
            str(p.pk)
            for p in Petition.objects.filter(pk__in=[int(i) for i in expected.rows])
            if permissions.can_view_petition_private(cell.user, p)
        }
        expected.rows = frozenset(allowed)
        expected.visible = bool(allowed)
        return expected


APP_CHANNELS: list[type[Channel]] = [
    DashboardStatistics,
    DashboardTable,
    DashboardLists,
    DashboardSearch,
    Open311List,
    Open311Detail,
    PhotoPublic,
    PhotoOriginal,
]
