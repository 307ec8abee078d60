"""What behaves differently on Citus, each difference pinned by a test (docs/scaling.md, section Citus)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, NotSupportedError, transaction

from layers.models import LandParcel
from petitions.models import Petition
from tests.factories import LandParcelFactory, PetitionFactory, point_in, square_at

pytestmark = pytest.mark.django_db


def test_editing_a_parcel_keeps_its_commune_and_saves(district):
    parcel = LandParcelFactory(in_commune="24931", land_use="CLN")
    stored = LandParcel.objects.get(pk=parcel.pk)
    stored.land_use = "ONT"
    stored.full_clean()  # assigns the commune again from the geometry: the same one
    stored.save()
    assert LandParcel.objects.get(pk=parcel.pk).land_use == "ONT"
    petition = Petition.objects.get(pk=PetitionFactory(in_commune="24937").pk)
    petition.public_note = "Đã chuyển cơ quan xử lý"
    petition.save()
    assert Petition.objects.get(pk=petition.pk).public_note == "Đã chuyển cơ quan xử lý"


def test_moving_a_parcel_into_another_commune_is_refused_by_the_database(district):
    """Difference: a row cannot change shard. On one PostgreSQL the parcel would move; on Citus delete it and
    create it again in the other commune."""
    parcel = LandParcel.objects.get(pk=LandParcelFactory(in_commune="24931").pk)
    parcel.geom = square_at(point_in("24937", 7))
    parcel.full_clean()
    assert parcel.commune_code == "24937"
    with pytest.raises(NotSupportedError, match="modifying the partition value"), transaction.atomic():
        parcel.save()
    assert LandParcel.objects.get(pk=parcel.pk).commune_code == "24931"


def test_a_tracking_code_is_unique_per_commune_only(district):
    """Difference: Citus enforces a unique constraint only with the distribution column in it. Tracking codes
    are 8 random symbols of 32 (about 10^12), so a repeat across communes is left to chance, not refused."""
    PetitionFactory(in_commune="24931", tracking_code="PA-SAME0001")
    with pytest.raises(IntegrityError), transaction.atomic():
        PetitionFactory(in_commune="24931", tracking_code="PA-SAME0001")
    PetitionFactory(in_commune="24937", tracking_code="PA-SAME0001")
    assert Petition.objects.filter(tracking_code="PA-SAME0001").count() == 2


def test_a_petition_may_name_a_parcel_that_is_gone(district):
    """Difference: the foreign key petition -> parcel joins two distributed tables on a column that is not the
    distribution column, so Citus has none; Django's on_delete (SET_NULL) still clears it on delete."""
    parcel = LandParcelFactory(in_commune="24931")
    petition = PetitionFactory(in_commune="24931", land_parcel=parcel)
    missing = parcel.pk + 10**9
    Petition.objects.filter(pk=petition.pk).update(land_parcel_id=missing)  # no database refusal
    parcel.delete()
    assert Petition.objects.get(pk=petition.pk).land_parcel_id == missing


def test_refiling_records_after_a_boundary_reform_is_refused(district):
    """Difference (not solved): a crosswalk's job (layers.refile) moves the records of closed units with an
    UPDATE of commune_code, which Citus refuses on a distributed table even when the code stays. On Citus the
    job fails and nothing moves; the records must be moved by deleting and inserting them."""
    import datetime as dt

    from django.utils import timezone

    from gis_ioc.crosswalks import CrosswalkInput, import_crosswalk
    from gis_ioc.models import AdminUnit, Crosswalk
    from gis_ioc.unit_sets import resolve
    from layers import refile

    day = dt.date(2026, 1, 1)
    tu_tra = AdminUnit.objects.communes().current(day - dt.timedelta(days=1)).get(code="24952")
    late = PetitionFactory(geom=tu_tra.geom.point_on_surface, received_at=timezone.make_aware(dt.datetime(2026, 2, 1)))
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
    with pytest.raises(NotSupportedError, match="modifying the partition value"), transaction.atomic():
        refile.run(crosswalk.pk)
    assert Petition.objects.get(pk=late.pk).commune_code == "24952"
