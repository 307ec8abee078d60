"""A record with a date is filed under the unit valid on that date, on every path, and a crosswalk's job
moves the records of the units it closed.

Demo Đơn Dương: Pró (24955) and the old Quảng Lập (24946) merged on 2025-01-01 into a new Quảng Lập that
keeps code 24955. A point in Pró's area belongs to Pró before that day and to the new commune after.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.utils import timezone

from gis_ioc.models import AdminUnit, Crosswalk
from layers import refile
from layers.models import BudgetRevenue, Dossier, HouseholdBusiness
from layers.models.base import assign_communes_in_bulk
from petitions.models import Petition
from tests.factories import PetitionFactory

pytestmark = pytest.mark.django_db
MERGER = dt.date(2025, 1, 1)


def at(y: int, m: int, d: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, 9))


@pytest.fixture
def units(district):
    """(Pró, old Quảng Lập, new Quảng Lập) and a point inside each old one."""
    pro = AdminUnit.objects.get(code="24955", valid_to=MERGER)
    old_ql = AdminUnit.objects.get(code="24946", valid_to=MERGER)
    new_ql = AdminUnit.objects.get(code="24955", valid_from=MERGER)
    return pro, old_ql, new_ql


def inside(unit: AdminUnit) -> Point:
    return unit.geom.point_on_surface


def test_a_petition_is_filed_under_the_unit_valid_on_the_day_it_was_received(units):
    pro, old_ql, new_ql = units
    in_2024 = PetitionFactory(geom=inside(pro), received_at=at(2024, 6, 1))
    in_2025 = PetitionFactory(geom=inside(pro), received_at=at(2025, 6, 1))
    old_area = PetitionFactory(geom=inside(old_ql), received_at=at(2024, 6, 1))
    assert (in_2024.commune_id, in_2024.commune_code) == (pro.id, "24955")
    assert (in_2025.commune_id, in_2025.commune_code) == (new_ql.id, "24955")
    assert (old_area.commune_id, old_area.commune_code) == (old_ql.id, "24946")


def test_correcting_the_date_files_the_record_again(units):
    pro, _old_ql, new_ql = units
    petition = PetitionFactory(geom=inside(pro), received_at=at(2025, 3, 1))
    petition.received_at = at(2024, 12, 20)
    petition.full_clean()
    petition.save()
    assert petition.commune_id == pro.id
    dossier = Dossier(
        commune=new_ql, procedure_code="1", procedure_name="x", field="x",
        received_date=dt.date(2025, 2, 1), due_date=dt.date(2025, 2, 9),
    )  # fmt: skip
    dossier.full_clean()
    dossier.received_date, dossier.due_date = dt.date(2024, 2, 1), dt.date(2024, 2, 9)
    dossier.full_clean()  # the same code, 24955, was Pró then
    assert dossier.commune_id == pro.id


def test_a_code_not_valid_on_the_records_date_is_a_clear_error(units):
    dossier = Dossier(
        commune_code="24946", procedure_code="1", procedure_name="x", field="x",
        received_date=dt.date(2025, 3, 1), due_date=dt.date(2025, 3, 9),
    )  # fmt: skip
    with pytest.raises(ValidationError) as err:
        dossier.full_clean()
    message = " ".join(err.value.message_dict["commune_code"])
    assert "24946" in message and "2009-01-01 – 2025-01-01" in message and "2025-03-01" in message


def test_bulk_assignment_gives_what_single_assignment_gives(units):
    pro, old_ql, new_ql = units
    made = [
        HouseholdBusiness.objects.create(
            name=f"Hộ {i}", business_line="Tạp hóa", registration_date=day, status="active",
            registration_number=f"DKKD-{i}",
            owner_name="A", address="x", geom=inside(unit),
        )
        for i, (unit, day) in enumerate(
            [(pro, dt.date(2023, 1, 5)), (old_ql, dt.date(2024, 12, 31)), (pro, dt.date(2025, 1, 1))]
        )
    ]  # fmt: skip
    single = [(b.commune_id, b.commune_code) for b in made]
    assert single == [(pro.id, "24955"), (old_ql.id, "24946"), (new_ql.id, "24955")]
    HouseholdBusiness.objects.filter(id__in=[b.id for b in made]).update(commune=None, commune_code="")
    assign_communes_in_bulk(HouseholdBusiness)
    bulk = [HouseholdBusiness.objects.values_list("commune_id", "commune_code").get(id=b.id) for b in made]
    assert bulk == single


def test_the_rest_api_files_a_dated_record_and_names_a_code_out_of_its_period(client, units, agency_staff):
    pro, _old_ql, _new_ql = units
    client.force_login(agency_staff)
    base = {
        "procedure_code": "2.000001", "procedure_name": "Đăng ký khai sinh", "field": "Hộ tịch",
        "status": "received",
    }  # fmt: skip
    ok = client.post(
        "/api/v1/layers/dossiers/features/",
        json.dumps({"properties": {**base, "received_date": "2024-05-02", "due_date": "2024-05-05",
                                   "commune_code": "24955"}}),
        content_type="application/json",
    )  # fmt: skip
    assert ok.status_code == 201, ok.content
    assert Dossier.objects.get(received_date=dt.date(2024, 5, 2)).commune_id == pro.id
    bad = client.post(
        "/api/v1/layers/dossiers/features/",
        json.dumps({"properties": {**base, "received_date": "2025-05-02", "due_date": "2025-05-05",
                                   "commune_code": "24946"}}),
        content_type="application/json",
    )  # fmt: skip
    assert bad.status_code == 400
    assert "2009-01-01 – 2025-01-01" in bad.content.decode()


def test_a_crosswalk_queues_a_job_that_files_the_closed_units_records_under_the_new_ones(units):
    """A second merger on 2026-01-01: Ka Đơn (24949) and Tu Tra (24952) become Ka Đơn. Records made since
    that day but still filed under the closed units move — located ones by their place, tabular ones to
    the unit their old one went into whole — and running the job again moves nothing."""
    from gis_ioc.crosswalks import CrosswalkInput, import_crosswalk
    from gis_ioc.unit_sets import resolve

    day = dt.date(2026, 1, 1)
    tu_tra = AdminUnit.objects.communes().current(day - dt.timedelta(days=1)).get(code="24952")
    late = PetitionFactory(geom=inside(tu_tra), received_at=at(2026, 2, 1))
    early = PetitionFactory(geom=inside(tu_tra), received_at=at(2025, 6, 1))
    revenue = BudgetRevenue.objects.create(
        commune=tu_tra, month=dt.date(2026, 3, 1), source="thue", planned=Decimal(1), actual=Decimal(1)
    )
    old_revenue = BudgetRevenue.objects.create(
        commune=tu_tra, month=dt.date(2025, 3, 1), source="thue", planned=Decimal(1), actual=Decimal(1)
    )
    members = resolve(as_of=day - dt.timedelta(days=1)).members.values_list("code", flat=True)
    rows = [
        CrosswalkInput(
            row=i, old_code=c, new_code="24949" if c in ("24949", "24952") else c,
            new_name="Xã Ka Đơn" if c in ("24949", "24952") else "", effective_date=day,
        )
        for i, c in enumerate(sorted(members), start=2)
    ]  # fmt: skip
    import_crosswalk(rows, source="test merger 2026")
    crosswalk = Crosswalk.objects.get(effective_date=day)
    from procrastinate.contrib.django.models import ProcrastinateJob

    assert ProcrastinateJob.objects.filter(
        task_name="layers.refile_crosswalk", args={"crosswalk_id": crosswalk.pk}
    ).exists()
    done = refile.run(crosswalk.pk)  # what the worker runs
    new = AdminUnit.objects.get(code="24949", valid_from=day)
    assert done.refile_status == "done" and done.refile_percent == 100
    assert done.refile_report["petitions_petition"]["moved"] == 1
    assert Petition.objects.get(pk=late.pk).commune_id == new.id
    assert Petition.objects.get(pk=early.pk).commune_id == tu_tra.id  # 2025: Tu Tra was valid
    assert BudgetRevenue.objects.get(pk=revenue.pk).commune_id == new.id
    assert BudgetRevenue.objects.get(pk=old_revenue.pk).commune_id == tu_tra.id
    again = refile.run(crosswalk.pk)
    assert all(v["moved"] == 0 for v in again.refile_report.values())


def test_an_import_of_dated_points_files_each_under_the_unit_of_its_date(units, tmp_path):
    from layers.importers.base import ImportOptions
    from layers.importers.pipeline import run_import

    pro, _old_ql, new_ql = units
    p = inside(pro)
    csv = tmp_path / "ho_kinh_doanh.csv"
    csv.write_text(
        "ten,nganh,so_dk,ngay_dk,lon,lat\n"
        f"Hộ A,Tạp hóa,DK-1,2023-04-01,{p.x},{p.y}\n"
        f"Hộ B,Tạp hóa,DK-2,2025-04-01,{p.x},{p.y}\n",
        encoding="utf-8",
    )
    mapping = {"name": "ten", "business_line": "nganh", "registration_number": "so_dk", "registration_date": "ngay_dk"}
    report = run_import(
        csv, csv.name, ImportOptions(target="household-businesses", mapping=mapping, x_field="lon", y_field="lat")
    )
    assert report["inserted"] == 2 and report["refiled_by_date"] == 1
    filed = dict(HouseholdBusiness.objects.values_list("registration_number", "commune_id"))
    assert filed == {"DK-1": pro.id, "DK-2": new_ql.id}
