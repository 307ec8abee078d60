# gis_ioc: one image for web (gunicorn), worker (procrastinate), MapProxy and the one-shot setup job.
# Debian 12 like the development machines: Python 3.11, GDAL 3.6 and GEOS/PROJ from apt (GeoDjango loads
# them through ctypes; the Python wheels of pyogrio/rasterio bring their own GDAL).
FROM debian:bookworm-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH IOC_DATA_ROOT=/data/private IOC_MAPPROXY_DIR=/data/mapproxy
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-dev build-essential gdal-bin libgdal-dev libgeos-c1v5 libproj25 \
      gettext nodejs npm postgresql-client fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv $VIRTUAL_ENV \
 && useradd --create-home --uid 1000 ioc && mkdir -p /data/private /data/mapproxy && chown -R ioc /data

WORKDIR /app
# Dependencies first so a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
# Front-end libraries are copied from node_modules into static/ (never a CDN), then collected.
RUN scripts/vendor-assets \
 && DEBUG=1 DATABASE_URL=postgresql://build:build@127.0.0.1:5432/build python manage.py collectstatic --noinput -v0 \
 && DEBUG=1 DATABASE_URL=postgresql://build:build@127.0.0.1:5432/build python manage.py compilemessages -v0 \
      --ignore=node_modules

USER ioc
EXPOSE 8000 8080
# Processes, not threads: GDAL is not thread-safe. The compose file sets the worker count.
CMD ["gunicorn", "gis_ioc.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "sync", "--timeout", "120"]
