"""The small world the leak matrix runs in: the demo communes, a handful of rows per catalog layer spread
over three communes (two inside the scoped officer's communes, one outside), an imported table and an
analysis-like result table without a commune column, a filtered model layer with role-limited fields,
two rasters, petition photos, one user per role and one client per user.

Everything is created once per test module inside one transaction that is rolled back at the end
(tests/leak_matrix/conftest.py), so the rest of the suite never sees it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import connection
from django.test import Client

from gis_ioc import roles

# Two communes inside the scoped officer's scope and one outside it.
IN_A = "24931"  # Thị trấn Thạnh Mỹ
IN_B = "24937"  # Xã Đạ Ròn
OUT = "24928"  # Thị trấn D'Ran
SCOPE = [IN_A, IN_B]
WORLD_COMMUNES = (IN_A, IN_B, OUT)

# Layers this module adds to the catalog (slug -> kind). The default catalog (layers.catalog_defaults)
# comes from the migrations; test_the_matrix_covers_every_catalog_layer checks that nothing else exists.
IMPORTED_TABLE = "imp_lm_wells"
ANALYSIS_TABLE = "analysis_result_lm"
EXTRA_LAYERS: dict[str, str] = {
    "lm-wells": "vector",  # an imported table (layers.registry.register_table_layer), no commune column
    "lm-analysis": "vector",  # an analysis-like result table without commune_code
    "lm-lower-secondary": "vector",  # a filtered model layer, limited to roles, with role-limited fields
    "lm-elevation": "raster",  # a public raster
    "lm-secret-raster": "raster",  # a staff-only raster
}
TRACKING_PREFIX = "PA-LMX"

# Roles of the matrix: anonymous, every role of gis_ioc.roles, a commune-scoped field officer and agency
# officer, an officer whose scope list is empty (means nothing), and a token user (signs in with
# `Authorization: Token …` only).
SCOPED = "scoped_officer"
SCOPED_AGENCY = "scoped_agency_staff"  # entitled to reporters and photo originals, but only in two communes
EMPTY_SCOPE = "empty_scope_officer"
TOKEN = "token_user"
ANONYMOUS = "anonymous"
TOKEN_ROLE = roles.AGENCY_STAFF  # the richest field set (owners' phones, reporters) over a token


def role_names() -> list[str]:
    """Every persona of the matrix; a role added to gis_ioc.roles joins it by itself."""
    return [ANONYMOUS, *roles.ROLES, SCOPED, SCOPED_AGENCY, EMPTY_SCOPE, TOKEN]


@dataclass
class Persona:
    name: str
    user: Any  # User or AnonymousUser
    client: Client


@dataclass
class World:
    personas: dict[str, Persona]
    media_root: Path
    tile_tiles: dict[str, Any] = field(default_factory=dict)
    photo_petitions: list[int] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict)  # per-persona answers shared by several cells

    def persona(self, name: str) -> Persona:
        return self.personas[name]


def _user(name: str, *role_list: str, communes: list[str] | None = None) -> User:
    from gis_ioc.models import UserScope

    user = User.objects.create(username=f"lm_{name}")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    user.groups.set(Group.objects.filter(name__in=role_list))
    if communes is not None:
        UserScope.objects.create(user=user, commune_codes=communes)
    return user


def make_personas() -> dict[str, Persona]:
    """One user and one client per persona (sessions through force_login; the token user by header)."""
    from gis_ioc.models import ApiToken

    roles.ensure_role_groups()
    personas: dict[str, Persona] = {}
    for index, name in enumerate(role_names()):
        remote = f"10.77.0.{index + 1}"  # one client address each: the public endpoints' throttles count per address
        if name == ANONYMOUS:
            personas[name] = Persona(name, AnonymousUser(), Client(REMOTE_ADDR=remote, raise_request_exception=False))
            continue
        if name == SCOPED:
            user = _user(name, roles.FIELD_OFFICER, communes=SCOPE)
        elif name == SCOPED_AGENCY:
            user = _user(name, roles.AGENCY_STAFF, communes=SCOPE)
        elif name == EMPTY_SCOPE:
            user = _user(name, roles.FIELD_OFFICER, communes=[])
        elif name == TOKEN:
            user = _user(name, TOKEN_ROLE)
        else:
            user = _user(name, name)
        if name == TOKEN:
            key = ApiToken.issue(user, "leak matrix").key
            client = Client(
                REMOTE_ADDR=remote, raise_request_exception=False, headers={"Authorization": f"Token {key}"}
            )
        else:
            client = Client(REMOTE_ADDR=remote, raise_request_exception=False)
            client.force_login(user)
        personas[name] = Persona(name, user, client)
    return personas


# --- data ---------------------------------------------------------------------------------------------
def make_rows() -> list[int]:
    """A handful of rows in every sector layer over IN_A, IN_B and OUT; returns petitions with photos."""
    from tests import factories as f

    for code in WORLD_COMMUNES:
        f.SchoolFactory(in_commune=code, level="thcs" if code != IN_B else "tieu_hoc")
        f.HealthFacilityFactory(in_commune=code)
        f.HouseholdBusinessFactory(in_commune=code)
        f.LandParcelFactory(in_commune=code, sheet_number=7)
        f.DossierFactory(in_commune=code)
        f.BudgetRevenueFactory(in_commune=code)
        f.IndicatorFactory(in_commune=code)
        f.CropAreaFactory(in_commune=code)
        f.FarmFactory(in_commune=code)
        f.VisitorCountFactory(in_commune=code)  # and its tourism site
    _stations()
    plan = f.PlanningPlanFactory()
    for code in WORLD_COMMUNES:
        f.PlanningZoneFactory(in_commune=code, plan=plan)
    # A zone planned for housing over the (perennial crop) parcels of IN_A and OUT: two conflicts.
    from django.contrib.gis.geos import MultiPolygon

    from layers.models import LandParcel

    for parcel in LandParcel.objects.filter(commune_code__in=[IN_A, OUT]):
        around = parcel.geom.buffer(0.0003)  # one polygon a little larger than the parcel
        f.PlanningZoneFactory(in_commune=parcel.commune_code, plan=plan, land_use="ONT",
                              geom=MultiPolygon(around, srid=4326))  # fmt: skip
    from django.utils import timezone

    petitions = [
        f.PetitionFactory(in_commune=code, tracking_code=f"{TRACKING_PREFIX}{i:02d}")
        for i, code in enumerate(WORLD_COMMUNES, start=1)
    ]
    # Two overdue petitions (one inside the scoped communes, one outside): the leaders' escalation list.
    for petition in (petitions[0], petitions[-1]):
        petition.received_at = timezone.now() - dt.timedelta(days=30)
        petition.due_at = timezone.now() - dt.timedelta(days=5)
        petition.save(update_fields=["received_at", "due_at"])
    _photos(petitions)
    _imported_table()
    _analysis_table()
    return [p.pk for p in petitions]


def _stations() -> None:
    """A monitoring station with one datastream and two observations in each world commune."""
    from django.utils import timezone

    from sensors.models import Datastream, Observation, ObservedProperty, Sensor, Thing
    from tests import factories as f

    prop = ObservedProperty.objects.create(name="pH", code="ph-world", min_value=0, max_value=14)
    sensor = Sensor.objects.create(name="Đầu đo")
    for i, code in enumerate(WORLD_COMMUNES):
        thing = Thing.objects.create(name=f"Trạm {code}", kind="nuoc", geom=f.point_in(code, 9000 + i))
        stream = Datastream.objects.create(thing=thing, sensor=sensor, observed_property=prop, name=f"pH {code}",
                                           unit_name="pH", unit_symbol="pH")  # fmt: skip
        for hours in (1, 2):
            Observation.objects.create(datastream=stream, result=7.0, commune=thing.commune, commune_code=code,
                                       phenomenon_time=timezone.now() - dt.timedelta(hours=hours))  # fmt: skip


def _photos(petitions: list[Any]) -> None:
    from PIL import Image

    from petitions import attachments

    for petition in petitions:
        out = io.BytesIO()
        exif = Image.Exif()
        exif[0x010F] = "Camera Co"  # evidence only the original may carry
        Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG", exif=exif)
        attachments.save_attachment(attachments.process_image(out.getvalue(), "a.jpg"), petition=petition)


def _points(n_per_commune: int = 1) -> list[tuple[str, str]]:
    """(commune, WKT) of points well inside each world commune."""
    from tests.factories import point_in

    return [(code, point_in(code, 9000 + i).wkt) for code in WORLD_COMMUNES for i in range(n_per_commune)]


def _imported_table() -> None:
    """What the import pipeline leaves: imp_<slug>, integer id, geom, file columns, no commune column."""
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {IMPORTED_TABLE} (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "name varchar(80), depth_m double precision, geom geometry(Point, 4326))"
        )
        for i, (_code, wkt) in enumerate(_points(), start=1):
            cur.execute(
                f"INSERT INTO {IMPORTED_TABLE} (name, depth_m, geom) VALUES (%s, %s, ST_GeomFromText(%s, 4326))",  # noqa: S608
                [f"Giếng {i}", 10.0 * i, wkt],
            )


def _analysis_table() -> None:
    """An analysis result without commune_code (the older result layout)."""
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {ANALYSIS_TABLE} (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "z_score double precision, confidence integer, geom geometry(MultiPolygon, 4326))"
        )
        for i, (_code, wkt) in enumerate(_points(), start=1):
            cur.execute(
                f"INSERT INTO {ANALYSIS_TABLE} (z_score, confidence, geom) "  # noqa: S608
                "VALUES (%s, %s, ST_Multi(ST_Buffer(ST_GeomFromText(%s, 4326), 0.0005)))",
                [1.5 * i, 90, wkt],
            )


def register_layers(media_root: Path, tmp: Path) -> None:
    """The module's own catalog entries: two tables, a filtered model layer, two rasters."""
    from layers.registry import attributes_of_table, register_model_layer, register_table_layer

    wells = attributes_of_table(IMPORTED_TABLE)
    for attr in wells:
        if attr["name"] == "name":
            attr["visibility"] = "public"
    register_table_layer(IMPORTED_TABLE, "lm-wells", "Giếng (nhập)", "Wells (imported)", attributes=wells)
    register_table_layer(
        ANALYSIS_TABLE, "lm-analysis", "Kết quả phân tích", "Analysis result", visibility="roles",
        allowed_roles=[roles.PLANNER, roles.GIS_STAFF, roles.FIELD_OFFICER],
    )  # fmt: skip

    def attr(name: str, visibility: str = "public", roles_: list[str] | None = None) -> dict[str, Any]:
        return {"name": name, "title_vi": name, "title_en": name, "type": "string", "visibility": visibility,
                "roles": roles_ or []}  # fmt: skip

    register_model_layer(
        "layers.School",
        "lm-lower-secondary",
        "Trường THCS",
        "Lower secondary schools",
        visibility="roles",
        allowed_roles=[roles.PLANNER, roles.LEADER, roles.FIELD_OFFICER],
        source_filter={"level": "thcs"},
        attributes=[
            attr("name"),
            attr("pupils", "roles", [roles.LEADER]),
            attr("teachers", "staff"),
            attr("commune_code", "roles", [roles.PLANNER, roles.FIELD_OFFICER]),
        ],
    )
    _rasters(media_root, tmp)


def _rasters(media_root: Path, tmp: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_bounds

    from tiles import rasters

    src = tmp / "lm.tif"
    data = np.linspace(800, 1800, 128 * 128, dtype="float32").reshape(128, 128)
    profile = {
        "driver": "GTiff", "width": 128, "height": 128, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
        "transform": from_bounds(108.35, 11.6, 108.72, 11.97, 128, 128), "nodata": -9999.0,
    }  # fmt: skip
    with rasterio.open(src, "w", **profile) as out:
        out.write(data, 1)
    rasters.register_cog(src, "lm-elevation", "Độ cao", "Elevation", rescale=(800, 1800), visibility="public")
    rasters.register_cog(src, "lm-secret-raster", "Raster mật", "Secret raster", rescale=(800, 1800),
                         visibility="staff")  # fmt: skip


def conflicting_parcels() -> set[str]:
    """The parcels the world's plan puts in conflict (built so: a housing zone over a CLN parcel)."""
    from layers.models import LandParcel

    return {str(pk) for pk in LandParcel.objects.filter(commune_code__in=[IN_A, OUT]).values_list("pk", flat=True)}


def make_analysis(author: User) -> None:
    """A finished analysis whose result is the lm-analysis layer, with a statistics table by commune (and a
    district row without commune, which tells about every commune)."""
    from analysis.models import Analysis
    from layers.models import Layer

    Analysis.objects.create(
        type="hotspots", title="Điểm nóng", created_by=author, status=Analysis.Status.SUCCEEDED, percent=100,
        result_layer=Layer.objects.get(slug="lm-analysis"),
        statistics=[{
            "key": "by_commune", "title_vi": "Theo xã", "title_en": "By commune",
            "columns": [{"name": "commune_code"}, {"name": "hot_cells"}],
            "rows": [{"commune_code": code, "hot_cells": i} for i, code in enumerate(WORLD_COMMUNES, start=1)]
            + [{"commune_code": "", "hot_cells": 6}],
        }],
    )  # fmt: skip


def make_field_report(officer: User, petition_id: int) -> None:
    """An officer's on-site report with a photo, about the petition outside the scoped communes."""
    import uuid

    from django.utils import timezone
    from PIL import Image

    from petitions import attachments
    from petitions.models import FieldReport, Petition

    petition = Petition.objects.get(pk=petition_id)
    report = FieldReport.objects.create(
        client_uuid=uuid.uuid4(), content_hash="lm", petition=petition, officer=officer, geom=petition.geom,
        accuracy_m=5.0, note="Đã xác minh tại chỗ", captured_at=timezone.now(), commune_code=petition.commune_code,
    )  # fmt: skip
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 200, 30)).save(out, "JPEG")
    attachments.save_attachment(attachments.process_image(out.getvalue(), "b.jpg"), report=report)
