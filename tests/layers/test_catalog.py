"""The layer catalog: every layer in Vietnamese and English, whitelists that name real fields, and new
layers added by a catalog row alone (served by the existing API, no view code)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.utils import translation

from layers.catalog_defaults import DEFAULT_LAYERS
from layers.models import Layer, PlanningZone, SectorFeature
from layers.registry import attributes_of_model, register_model_layer, register_table_layer
from tests import factories as f


def test_the_catalog_lists_every_layer_in_vietnamese_and_english(db):
    layers = list(Layer.objects.all())
    assert {spec["slug"] for spec in DEFAULT_LAYERS} <= {layer.slug for layer in layers}
    for layer in layers:
        assert layer.title_vi and layer.title_en and layer.title_vi != layer.title_en, layer.slug
        with translation.override("vi"):
            assert layer.title == layer.title_vi
        with translation.override("en"):
            assert layer.title == layer.title_en
        for attribute in layer.attributes:
            assert attribute["title_vi"] and attribute["title_en"], (layer.slug, attribute["name"])


NINE_SECTORS = ["layers.School", "layers.HealthFacility", "layers.HouseholdBusiness", "layers.LandParcel",
                "layers.PlanningPlan", "layers.PlanningZone", "petitions.Petition", "layers.Dossier",
                "layers.BudgetRevenue", "layers.Indicator"]  # fmt: skip


def test_every_sector_model_is_registered_in_the_catalog(db):
    registered = set(Layer.objects.values_list("source_model", flat=True))
    assert [label for label in NINE_SECTORS if label not in registered] == []
    assert all(issubclass(apps.get_model(label), SectorFeature) for label in NINE_SECTORS if "Plan" not in label)


def test_every_whitelisted_attribute_is_a_real_field_of_its_source(db):
    for layer in Layer.objects.exclude(source_model=""):
        model = layer.model_class()
        names = {fld.name for fld in model._meta.get_fields()} | {fld.attname for fld in model._meta.concrete_fields}
        unknown = [a["name"] for a in layer.attributes if a["name"] not in names]
        assert not unknown, (layer.slug, unknown)


def test_personal_data_is_never_public_in_the_defaults(db):
    for slug, field in [("household-businesses", "owner_id_number"), ("petitions", "reporter_phone")]:
        attribute = Layer.objects.get(slug=slug).attribute(field)
        assert attribute["visibility"] != "public"


def test_a_filtered_view_of_a_model_is_a_new_layer_by_one_call(district):
    approved = f.PlanningPlanFactory(status="approved")
    draft = f.PlanningPlanFactory(status="draft", approval_decision="")
    f.PlanningZoneFactory(plan=approved)
    f.PlanningZoneFactory(plan=draft)
    layer = register_model_layer(
        PlanningZone, "approved-zones", "Khu quy hoạch đã duyệt", "Approved planning zones",
        source_filter={"plan__status": "approved"}, visibility="public",
    )  # fmt: skip
    assert layer.geometry_type == "MultiPolygon" and layer.geometry_field == "geom"
    assert [z.plan_id for z in layer.base_queryset()] == [approved.pk]
    # Registering again updates the row and bumps its version (tile caches refresh).
    again = register_model_layer(PlanningZone, "approved-zones", "Khu quy hoạch đã duyệt", "Approved zones")
    assert again.pk == layer.pk and again.version == layer.version + 1 and again.title_en == "Approved zones"


def test_default_whitelists_of_new_layers_are_staff_only(db):
    attributes = attributes_of_model(apps.get_model("layers.HouseholdBusiness"))
    assert {a["visibility"] for a in attributes} == {"staff"}
    owner = next(a for a in attributes if a["name"] == "owner_name")
    assert owner["title_vi"] == "chủ hộ"


@pytest.fixture
def wells_table(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE import_wells (id serial PRIMARY KEY, name text, depth_m double precision, "
            "commune_code varchar(10), geom geometry(Point, 4326))"
        )
        cursor.execute(
            "INSERT INTO import_wells (name, depth_m, commune_code, geom) VALUES "
            "('Giếng Lạc Xuân', 42.5, '24934', ST_SetSRID(ST_MakePoint(108.60, 11.78), 4326)), "
            "('Giếng Ka Đô', 18, '24943', ST_SetSRID(ST_MakePoint(108.60, 11.72), 4326))"
        )
    return "import_wells"


def test_an_imported_table_is_published_through_the_existing_api_by_a_catalog_row(wells_table, client, gis_staff):
    layer = register_table_layer(wells_table, "wells", "Giếng khoan", "Wells")
    assert layer.geometry_type == "Point"
    assert [a["name"] for a in layer.attributes] == ["name", "depth_m", "commune_code"]
    assert {a["type"] for a in layer.attributes} == {"string", "number"}
    client.force_login(gis_staff)
    response = client.get("/api/v1/layers/wells/features/")
    assert response.status_code == 200, response.content[:300]
    names = sorted(feature["properties"]["name"] for feature in response.json()["features"])
    assert names == ["Giếng Ka Đô", "Giếng Lạc Xuân"]
    # Staff-only by default: an anonymous visitor does not even learn the layer exists.
    client.logout()
    assert client.get("/api/v1/layers/wells/features/").status_code in (401, 403, 404)


def test_registering_a_table_without_geometry_is_refused(db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE import_notes (id serial PRIMARY KEY, txt text)")
    with pytest.raises(LookupError, match="no geometry column"):
        register_table_layer("import_notes", "notes", "Ghi chú", "Notes")
