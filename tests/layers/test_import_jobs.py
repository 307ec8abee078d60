"""The web and API doors: an import is a procrastinate job with status and percent; a dead worker's job
ends failed with the reason and the data unchanged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from gis_ioc import roles
from layers.importers import jobs
from layers.models import ImportJob, ImportMapping, LandParcel, Layer
from tests.conftest import make_user
from tests.layers import import_files as files
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.mark.django_db
def test_the_api_queues_an_import_and_reports_its_progress(district, gis_staff, client, media, tmp_path) -> None:
    archive = files.shapefile_zip(files.parcels(8), tmp_path, "thua", prj=False, encoding="tcvn3", cpg=False)
    client.force_login(gis_staff)
    response = client.post(
        "/api/v1/imports/",
        {
            "file": _upload(archive),
            "target": "land-parcels",
            "key": "sheet_number,parcel_number",
            "mapping": "sheet_number=SHBANDO,parcel_number=SOTHUA,area_m2=DIENTICH,land_use=MDSD",
        },
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["preview"]["crs"]["srid"] == 5899 and body["preview"]["encoding"]["encoding"] == "tcvn3"
    names = [f["name"] for f in body["preview"]["fields"]]
    assert body["preview"]["sample"][1][names.index("CHUSD")] == "Trần Thị Hường"
    queued = ProcrastinateJob.objects.get(id=ImportJob.objects.get(pk=body["id"]).queue_job_id)
    assert (queued.queue_name, queued.task_name, queued.status) == ("imports", "layers.import", "todo")

    jobs.execute(body["id"])  # what the worker runs
    done = client.get(f"/api/v1/imports/{body['id']}/").json()
    assert (done["status"], done["percent"], done["layer"]) == ("succeeded", 100, "land-parcels")
    assert done["report"]["inserted"] == 8 and LandParcel.objects.count() == 8


@pytest.mark.django_db
def test_only_gis_staff_may_import(district, leader, client, media, tmp_path) -> None:
    archive = files.shapefile_zip(files.parcels(2), tmp_path, "thua", prj=False)
    client.force_login(leader)
    response = client.post("/api/v1/imports/", {"file": _upload(archive), "target": "new:x"})
    assert response.status_code == 403
    assert client.get("/imports/").status_code == 403
    client.logout()
    assert client.post("/api/v1/imports/", {"file": _upload(archive)}).status_code in (401, 403)
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_mapping_is_refused_before_anything_is_queued(district, gis_staff, client, media, tmp_path) -> None:
    archive = files.shapefile_zip(files.parcels(2), tmp_path, "thua", prj=False)
    client.force_login(gis_staff)
    queued_before = ProcrastinateJob.objects.count()
    response = client.post(
        "/api/v1/imports/",
        {
            "file": _upload(archive),
            "target": "land-parcels",
            "mapping": '{"sheet_number": "SHBANDO", "khong_co": "SOTHUA"}',
        },
    )
    assert response.status_code == 400 and "khong_co không tồn tại" in response.json()["detail"]
    assert ImportJob.objects.count() == 0 and ProcrastinateJob.objects.count() == queued_before
    assert not any((media / "imports" / "uploads").glob("*/*"))


@pytest.mark.django_db
def test_a_rejected_file_ends_the_job_failed_with_row_field_and_reason(
    district, gis_staff, client, media, tmp_path
) -> None:
    gdf = files.parcels(4)
    gdf.loc[2, "MDSD"] = "???"
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    client.force_login(gis_staff)
    job_id = client.post(
        "/api/v1/imports/",
        {
            "file": _upload(archive),
            "target": "land-parcels",
            "mapping": files.PARCEL_MAPPING.__repr__().replace("'", '"'),
        },
    ).json()["id"]
    job = jobs.execute(job_id)
    assert job.status == "failed" and "dòng 3, trường land_use" in job.message
    assert job.report["issues"][0] == {
        "row": 3,
        "field": "land_use",
        "reason": "giá trị không có trong danh mục",
        "value": "???",
    }
    assert LandParcel.objects.count() == 0


@pytest.mark.django_db
def test_skip_bad_rows_through_the_api_returns_the_rejects_file(district, gis_staff, client, media, tmp_path) -> None:
    gdf = files.parcels(4)
    gdf.loc[2, "MDSD"] = "???"
    archive = files.shapefile_zip(gdf, tmp_path, "thua", prj=False)
    client.force_login(gis_staff)
    job_id = client.post(
        "/api/v1/imports/",
        {
            "file": _upload(archive),
            "target": "land-parcels",
            "skip_bad_rows": "true",
            "mapping": ",".join(f"{k}={v}" for k, v in files.PARCEL_MAPPING.items()),
        },
    ).json()["id"]
    jobs.execute(job_id)
    body = client.get(f"/api/v1/imports/{job_id}/").json()
    assert body["status"] == "succeeded" and body["report"]["inserted"] == 3
    rejects = client.get(body["rejects_url"])
    text = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert rejects.status_code == 200 and "3,land_use,giá trị không có trong danh mục" in text


@pytest.mark.django_db
def test_the_page_previews_decoded_values_saves_the_mapping_and_queues(
    district, gis_staff, client, media, tmp_path
) -> None:
    archive = files.shapefile_zip(files.parcels(3), tmp_path, "thua", prj=False, encoding="vni", cpg=False)
    client.force_login(gis_staff)
    response = client.post("/imports/", {"file": _upload(archive), "target": "land-parcels"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Nguyễn Văn Đức" in page and "VNI-Windows" in page and "EPSG:5899" in page
    form = {f"map:{k}": v for k, v in files.PARCEL_MAPPING.items()}
    response = client.post(
        response["Location"],
        {
            **form,
            "target": "land-parcels",
            "commit": "1",
            "save_mapping": "dia-chinh-vni",
            "key": "sheet_number,parcel_number",
        },
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "queued" and job.options["mapping"] == files.PARCEL_MAPPING
    assert ImportMapping.objects.get(name="dia-chinh-vni").fields == files.PARCEL_MAPPING
    jobs.execute(job.pk)
    assert "Hoàn tất" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_a_saved_mapping_is_reused_by_name(district, gis_staff, media, tmp_path) -> None:
    ImportMapping.objects.create(name="dia-chinh", target="land-parcels", fields=files.PARCEL_MAPPING)
    from django.core.management import call_command

    archive = files.shapefile_zip(files.parcels(3), tmp_path, "thua", prj=False)
    call_command("import_layer", str(archive), "--target", "land-parcels", "--mapping", "dia-chinh")
    assert LandParcel.objects.count() == 3


# --- a real worker, killed mid-import ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_fails_the_job_and_leaves_the_data_unchanged(tmp_path: Path, settings) -> None:
    from gis_ioc.demo.district import load_district

    load_district()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    gis = make_user("gis_kill", roles.GIS_STAFF)
    archive = files.shapefile_zip(files.parcels(20), tmp_path, "thua", prj=False)
    job = jobs.create_job(
        _upload(archive),
        jobs.options_from(
            {"target": "land-parcels", "mapping": ",".join(f"{k}={v}" for k, v in files.PARCEL_MAPPING.items())}
        ),
        gis,
    )
    jobs.enqueue(job)
    version = Layer.objects.get(slug="land-parcels").version
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    # Hold the parcels table so the worker stops inside its import transaction, after staging.
    blocker = psycopg.connect(url)
    blocker.execute("LOCK TABLE layers_landparcel IN ACCESS EXCLUSIVE MODE")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "-q", "imports"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": settings.MEDIA_ROOT},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: ImportJob.objects.get(pk=job.pk).percent >= 65 or worker.poll() is not None,
            what="the worker to stage the file",
        )
        assert worker.poll() is None, worker.stderr.read().decode()[-3000:] if worker.stderr else ""
        assert ImportJob.objects.get(pk=job.pk).status == "running"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()

    def rolled_back() -> bool:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            return cur.fetchone()[0] == 0

    wait_for(rolled_back, 30, "PostgreSQL to roll back the dead worker's transaction")
    assert ImportJob.objects.get(pk=job.pk).status == "running"  # nobody has noticed yet
    assert jobs.reap(seconds_since_heartbeat=0) == [job.pk]
    failed = ImportJob.objects.get(pk=job.pk)
    assert failed.status == "failed" and "dừng đột ngột" in failed.message
    assert ProcrastinateJob.objects.get(id=failed.queue_job_id).status == "failed"
    assert LandParcel.objects.count() == 0 and Layer.objects.get(slug="land-parcels").version == version


@pytest.mark.django_db
def test_the_api_previews_first_then_commits_the_previewed_upload(district, gis_staff, client, media, tmp_path) -> None:
    path = tmp_path / "xa.geojson"
    files.communes().head(2).to_file(path, driver="GeoJSON")
    client.force_login(gis_staff)
    first = client.post("/api/v1/imports/", {"file": _upload(path), "preview_only": "true"})
    assert first.status_code == 201
    body = first.json()
    assert body["status"] == "uploaded" and body["preview"]["count"] == 2 and body["preview"]["crs"]["srid"] == 4326
    committed = client.post(f"/api/v1/imports/{body['id']}/", {"target": "new:xa-api", "title": "Xã (API)"})
    assert committed.status_code == 202 and committed.json()["status"] == "queued"
    assert client.post(f"/api/v1/imports/{body['id']}/", {"target": "new:xa-api"}).status_code == 409
    jobs.execute(body["id"])
    assert client.get(f"/api/v1/imports/{body['id']}/").json()["layer"] == "xa-api"
    assert Layer.objects.get(slug="xa-api").title_vi == "Xã (API)"
