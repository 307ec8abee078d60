"""WSGI entry point (gunicorn runs it with processes: GDAL is not thread-safe)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_ioc.settings")
application = get_wsgi_application()
