"""The notebooks for GIS staff run end to end against the test database (nbclient, the venv's kernel)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import numpy as np
import pytest
from django.db import connection
from django.utils import timezone
from nbclient import NotebookClient

from layers.models import HealthFacility, LandParcel, Layer, PlanningPlan, PlanningZone, School
from petitions.models import Petition
from tests.analysis.conftest import district_grid, write_raster
from tests.analysis.factories import origin, point, square
from tests.conftest import make_user

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"


def _seed(tmp_path: Path) -> None:
    from gis_ioc.demo.district import load_district

    load_district()
    make_user("gis_staff", "gis_staff")
    transform, shape = district_grid(pixel=100)
    raster = write_raster(tmp_path / "pop.tif", np.full(shape, 80.0), transform)
    Layer.objects.update_or_create(
        slug="population-density",
        defaults={
            "title_vi": "Mật độ dân số",
            "title_en": "Population density",
            "kind": "raster",
            "raster_path": str(raster),
        },
    )
    for i, code in enumerate(["24931", "24937", "24943"]):
        o = origin(code)
        School.objects.create(name=f"Trường {i}", level="tieu_hoc", geom=point(o, 100, 0))
        HealthFacility.objects.create(name=f"Trạm y tế {i}", facility_type="tram_y_te", geom=point(o, 0, 0))
    o = origin("24931")
    when = timezone.make_aware(dt.datetime(2024, 5, 10, 9))
    rng = np.random.default_rng(3)
    for k, (dx, dy) in enumerate(rng.uniform(-150, 150, size=(20, 2))):
        Petition.objects.create(
            category="moi_truong", description="Rác", geom=point(o, dx, dy), received_at=when + dt.timedelta(days=k)
        )
    for code in ("24928", "24940", "24952"):
        Petition.objects.create(
            category="giao_thong_ha_tang", description="Ổ gà", geom=point(origin(code), 0, 0), received_at=when
        )
    old = PlanningPlan.objects.create(name="QHSDĐ 2021", level="su_dung_dat", period_start=2021, period_end=2030)
    new = PlanningPlan.objects.create(name="QHSDĐ 2031", level="su_dung_dat", period_start=2031, period_end=2040)
    PlanningZone.objects.create(plan=old, zone_code="A1", land_use="LUC", geom=square(o, 0, 0, 400, 200))
    PlanningZone.objects.create(plan=new, zone_code="B1", land_use="LUC", geom=square(o, 0, 0, 200, 200))
    PlanningZone.objects.create(plan=new, zone_code="B2", land_use="ONT", geom=square(o, 200, 0, 400, 200))
    LandParcel.objects.create(
        sheet_number=3, parcel_number=12, area_m2=5000, land_use="LUC", geom=square(o, 250, 50, 350, 100)
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_notebook_runs_end_to_end(tmp_path, monkeypatch):
    _seed(tmp_path)
    db = connection.settings_dict
    monkeypatch.setenv(
        "IOC_NOTEBOOK_DATABASE_URL",
        f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    )
    monkeypatch.setenv("IOC_NOTEBOOK_USER", "gis_staff")
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        client = NotebookClient(
            book, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()  # raises CellExecutionError naming the cell on the first failure
        errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, (path.name, errors)
    # What the notebooks produced is in the catalog: analysis layers and the published layer.
    assert Layer.objects.filter(slug="vung-1km-co-so-y-te", source_table="published_vung_1km_co_so_y_te").exists()
    assert Layer.objects.filter(slug__startswith="analysis-").count() == 3
