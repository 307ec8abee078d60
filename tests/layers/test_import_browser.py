"""The import and export pages in Chromium: upload a TCVN3 cadastral shapefile, read the decoded preview,
map the fields, queue the import, watch it finish; then download an export."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from gis_ioc import roles
from layers.importers import jobs
from layers.models import ImportJob, LandParcel
from tests.conftest import make_user
from tests.layers import import_files as files

ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
]
SHOTS = Path(os.environ.get("IOC_SCREENSHOTS", "/tmp/ioc-screenshots"))


@pytest.fixture
def async_unsafe_allowed():
    """Playwright's sync API runs an event loop in this thread; the ORM calls here are still synchronous."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_gis_staff_import_a_tcvn3_shapefile_through_the_page(
    live_server, tmp_path: Path, settings, async_unsafe_allowed
) -> None:
    from playwright.sync_api import sync_playwright

    from gis_ioc.demo.district import load_district

    load_district()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = make_user("gis_browser", roles.GIS_STAFF)
    client = Client()
    client.force_login(user)
    archive = files.shapefile_zip(files.parcels(9), tmp_path, "thua_dat", prj=False, encoding="tcvn3", cpg=False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/imports/")
        page.screenshot(path=str(SHOTS / "import-home.png"), full_page=True)
        page.set_input_files("#file", str(archive))
        page.select_option("#target", "land-parcels")
        page.click("main button[type=submit]")
        page.wait_for_selector("#sample")
        assert "Nguyễn Văn Đức" in page.inner_text("#sample")
        assert "TCVN3" in page.content() and "EPSG:5899" in page.content()
        for field, column in files.PARCEL_MAPPING.items():
            page.select_option(f"select[name='map:{field}']", column)
        page.screenshot(path=str(SHOTS / "import-preview.png"), full_page=True)
        page.click("button[name=commit]")
        page.wait_for_selector("#progress")
        job = ImportJob.objects.get()
        assert job.status == "queued"
        jobs.execute(job.pk)  # the worker's part
        page.wait_for_selector(".status-succeeded", timeout=15000)
        page.screenshot(path=str(SHOTS / "import-done.png"), full_page=True)
        assert LandParcel.objects.count() == 9

        page.goto(f"{live_server.url}/exports/")
        page.select_option("#layer", "land-parcels")
        page.select_option("#format", "gpkg")
        page.screenshot(path=str(SHOTS / "export-form.png"), full_page=True)
        with page.expect_download() as download:
            page.click("main button[type=submit]")
        assert download.value.suggested_filename == "land-parcels.gpkg"
        browser.close()
