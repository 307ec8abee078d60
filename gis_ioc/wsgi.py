"""WSGI entry point (gunicorn runs it with processes: GDAL is not thread-safe)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
application = get_wsgi_application()
# Import every view module now, not on the first request: with `gunicorn --preload` the workers fork
# with everything loaded (one import instead of one per worker), and a broken import stops the start.
get_resolver().url_patterns  # noqa: B018
