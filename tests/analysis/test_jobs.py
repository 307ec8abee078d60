"""Analyses as jobs: started and listed from the API and the page, run by a real procrastinate worker,
and recovered when the worker is killed mid-run (no partial layer; a re-run succeeds)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob

from analysis import reaper, runner, service
from analysis.models import Analysis
from layers.models import Layer
from tests.analysis.conftest import district_grid, run_now, write_raster
from tests.conftest import make_user
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _table_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_analysis_is_started_listed_and_shown_through_the_api(gis_staff, population_raster, client):
    client.force_login(gis_staff)
    response = client.post(
        "/api/v1/analyses/",
        {"type": "zonal", "title": "Dân số theo xã", "parameters": {"raster": "population-density"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["status"], created["created_by"], created["title"]) == ("queued", "gis_staff", "Dân số theo xã")
    # The job is on the analysis queue, enqueued with the record.
    job = ProcrastinateJob.objects.get(id=Analysis.objects.get(pk=created["id"]).job_id)
    assert (job.queue_name, job.task_name, job.status) == ("analysis", "analysis.run", "todo")
    runner.execute(created["id"])
    detail = client.get(f"/api/v1/analyses/{created['id']}/").json()
    assert detail["status"] == "succeeded" and detail["percent"] == 100
    assert detail["result_layer"] == f"analysis-{created['id']}"
    assert detail["links"]["tiles"] == f"/tiles/analysis-{created['id']}/{{z}}/{{x}}/{{y}}.mvt"
    assert len(detail["statistics"][0]["rows"]) == 9
    listed = client.get("/api/v1/analyses/").json()["results"]
    assert [a["id"] for a in listed] == [created["id"]]
    types = {t["type"] for t in client.get("/api/v1/analyses/types/").json()["results"]}
    assert types == {"coverage", "hotspots", "zoning_compare", "parcel_conflicts", "zonal", "trends"}


@pytest.mark.django_db
def test_who_may_run_and_see_analyses(leader, scoped_officer, district, client):
    assert client.get("/api/v1/analyses/").status_code == 401
    client.force_login(leader)
    assert client.get("/api/v1/analyses/").status_code == 200
    response = client.post("/api/v1/analyses/", {"type": "trends", "parameters": {}}, content_type="application/json")
    assert response.status_code == 403
    assert "cán bộ GIS" in response.json()["detail"]
    response = client.post("/api/v1/analyses/", {"type": "nope"}, content_type="application/json")
    assert response.status_code in (400, 403)


@pytest.mark.django_db
def test_a_scoped_planner_analyses_only_their_communes(district, client):
    planner = make_user("scoped_planner", "planner", communes=["24931"])
    client.force_login(planner)
    response = client.post(
        "/api/v1/analyses/", {"type": "trends", "parameters": {"communes": ["24937"]}}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "24937" in response.json()["errors"]["communes"][0]
    response = client.post("/api/v1/analyses/", {"type": "trends", "parameters": {}}, content_type="application/json")
    assert response.json()["parameters"]["communes"] == ["24931"]


@pytest.mark.django_db
def test_the_page_starts_an_analysis_and_a_rerun_replaces_its_layer(gis_staff, population_raster, client):
    client.force_login(gis_staff)
    page = client.get("/analyses/")
    assert page.status_code == 200
    assert "Chạy phân tích mới" in page.content.decode()
    bad = client.post(
        "/analyses/",
        {"type": "coverage", "coverage-facility": "schools", "coverage-mode": "distance", "coverage-distance_m": "-5"},
    )
    assert bad.status_code == 400
    assert "Khoảng cách phải lớn hơn 0 m." in bad.content.decode()
    response = client.post(
        "/analyses/",
        {
            "type": "zonal",
            "zonal-raster": "population-density",
            "zonal-zones": "communes",
            "zonal-percentiles": "50",
            "communes": ["24931"],
        },
    )
    assert response.status_code == 302
    analysis = Analysis.objects.get()
    assert analysis.parameters["communes"] == ["24931"]
    runner.execute(analysis.pk)
    first_version = Layer.objects.get(slug=analysis.result_slug).version
    detail = client.get(f"/analyses/{analysis.pk}/").content.decode()
    assert "Hoàn thành" in detail and "Thị trấn Thạnh Mỹ" in detail
    assert client.post(f"/analyses/{analysis.pk}/rerun/").status_code == 302
    analysis.refresh_from_db()
    assert analysis.status == "queued"
    assert client.post(f"/api/v1/analyses/{analysis.pk}/rerun/").status_code == 409  # already queued
    done = runner.execute(analysis.pk)
    assert done.status == "succeeded" and done.runs == 2
    assert Layer.objects.get(slug=analysis.result_slug).version > first_version


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "-q", "analysis", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_no_partial_layer_and_a_rerun_succeeds(tmp_path, settings_module=settings):
    from gis_ioc.demo.district import load_district

    load_district()
    gis = make_user("gis_killed", "gis_staff")
    transform, shape = district_grid(pixel=100)
    write_raster(tmp_path / "rasters" / "pop.tif", np.full(shape, 50.0), transform)
    Layer.objects.create(
        slug="population-density",
        title_vi="Mật độ",
        title_en="Density",
        kind="raster",
        raster_path=str(tmp_path / "rasters" / "pop.tif"),
    )
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(tmp_path),
        runner.PAUSE_ENV: "120",  # hold the result transaction open so the kill lands inside it
    }
    analysis = service.start(gis, "zonal", {"raster": "population-density"})
    worker = _worker(env)
    try:
        wait_for(lambda: Analysis.objects.get(pk=analysis.pk).percent == 95, what="the worker to reach the write step")
        # The result table is being written in the worker's open transaction: invisible to everyone else.
        assert not _table_exists(analysis.result_table)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)

    def rolled_back() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0] == 0

    wait_for(rolled_back, 30, "PostgreSQL to roll back the dead worker's transaction")
    stuck = Analysis.objects.get(pk=analysis.pk)
    assert stuck.status == "running"  # nobody has noticed yet
    assert reaper.reap(seconds_since_heartbeat=0) == [analysis.pk]
    failed = Analysis.objects.get(pk=analysis.pk)
    assert failed.status == "failed" and "dừng đột ngột" in failed.error
    assert ProcrastinateJob.objects.get(id=failed.job_id).status == "failed"
    assert not _table_exists(analysis.result_table)
    assert not Layer.objects.filter(slug=analysis.result_slug).exists()

    service.rerun(gis, failed)
    env.pop(runner.PAUSE_ENV)
    again = _worker(env, "--one-shot")
    try:
        again.wait(timeout=120)
    finally:
        if again.poll() is None:
            os.killpg(again.pid, signal.SIGKILL)
    done = Analysis.objects.get(pk=analysis.pk)
    assert done.status == "succeeded", (done.error, again.stderr.read().decode()[-2000:] if again.stderr else "")
    assert done.runs == 2
    assert _table_exists(done.result_table)
    assert Layer.objects.get(slug=done.result_slug).source_table == done.result_table


@pytest.mark.django_db
def test_a_result_layer_is_served_by_the_feature_api_within_the_users_scope(
    gis_staff, scoped_officer, population_raster, client
):
    done = run_now(gis_staff, "zonal", {"raster": "population-density"})
    url = f"/api/v1/layers/{done.result_slug}/features/?limit=50"
    assert client.get(url).status_code == 404  # staff-only: does not exist for the public
    client.force_login(scoped_officer)
    features = client.get(url).json()["features"]
    assert sorted(f["properties"]["commune_code"] for f in features) == ["24931", "24937"]
    detail = client.get(f"/api/v1/analyses/{done.pk}/").json()
    assert sorted(r["commune_code"] for r in detail["statistics"][0]["rows"]) == ["24931", "24937"]
