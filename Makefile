# gis_ioc — `make demo` runs the platform with demo data; `make test` runs the checks and the suite.
# Every target installs what it needs (apt, pip, npm) and starts the project's own PostgreSQL.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PY := .venv/bin/python
PORT ?= 8000
MANAGE := $(PY) manage.py
# Packages checked by mypy (django-stubs; settings in pyproject.toml [tool.mypy]).
TYPED := gis_ioc layers tiles petitions analysis dashboard live alerts sensors
# pytest-xdist workers for `make test`: one per core.
TEST_WORKERS ?= $(shell nproc)

.PHONY: demo test test-distributed db db-stop setup system venv assets migrate messages serve lint bench clean

# REPLICA=1: a streaming replica of the cluster serves the read-only channels (docs/scaling.md).
REPLICA ?= 0
# SCALE=province: the 148 real Lâm Đồng communes at Đơn Dương's densities (~2 million parcels), in its own
# database gis_ioc_province (`make demo` alone switches back to gis_ioc).
SCALE ?= district
ifeq ($(SCALE),province)
export IOC_DB_NAME := gis_ioc_province
endif
demo: setup db messages
	$(MANAGE) prepare_demo --scale $(SCALE)
	$(MANAGE) mapproxy_config --upstream http://127.0.0.1:$(PORT)
	@if [ "$(REPLICA)" = "1" ]; then scripts/ioc-db start-replica; fi
	@echo "gis_ioc is serving on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/, health: /healthz; web + job workers)"
	@$(MAKE) --no-print-directory serve

# Serve only (after `make demo` once): scripts/ioc-run supervises gunicorn (processes; static files from
# static_root/) and one procrastinate worker per job queue, restarts any that dies; Ctrl-C stops them all.
serve:
	@if [ "$(REPLICA)" = "1" ]; then export IOC_REPLICA_URL="$$(cat .ioc/replica_url)"; fi; \
	  IOC_SERVE_STATIC=1 $(PY) scripts/ioc-run --port $(PORT)

test: setup db messages
	.venv/bin/ruff check .
	.venv/bin/mypy $(TYPED)
	@# Both cores (pytest-xdist): each worker has its own test database (test_gis_ioc_gw0, _gw1) and takes
	@# whole files, so a module's shared fixtures (the leak matrix's world) are built once.
	status=0; $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile || status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests collected" >&2; fi; exit $$status

# The platform on Citus (docs/scaling.md, section Citus): scripts/ioc-citus starts a coordinator and two workers,
# a fresh database is migrated and distributed (manage.py citus_distribute), then tests/distributed runs. Not part
# of `make test`: Citus is built from source once (`scripts/ioc-citus build`); without it this stops, saying so.
CITUS_TEST_DB := gis_ioc_distributed_test
test-distributed: setup messages
	@scripts/ioc-citus start $(CITUS_TEST_DB) >/dev/null
	@scripts/ioc-citus drop $(CITUS_TEST_DB) >/dev/null
	@scripts/ioc-citus start $(CITUS_TEST_DB)
	export DATABASE_URL="$$(scripts/ioc-citus url $(CITUS_TEST_DB))" IOC_DISTRIBUTED=1; \
	  $(MANAGE) migrate --noinput -v0 && $(MANAGE) citus_distribute >/dev/null && \
	  $(PY) -m pytest -q -p no:cacheprovider tests/distributed

setup: system venv assets

system:
	@scripts/ensure-system

venv: .venv/.installed
.venv/.installed: pyproject.toml
	@# An interrupted first run can leave a venv without pip: rebuild it then.
	@test -x $(PY) -a -x .venv/bin/pip || python3 -m venv --clear .venv
	@.venv/bin/pip install -q --upgrade pip
	@# One retry: a passing registry hiccup should not fail a fresh machine's set-up.
	.venv/bin/pip install -q -e '.[dev]' || .venv/bin/pip install -q -e '.[dev]'
	@touch $@

assets: static/vendor/.installed
static/vendor/.installed: package.json package-lock.json scripts/vendor-assets scripts/build-glyphs
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor-assets
	@touch $@

db: system
	@scripts/ioc-db start

db-stop:
	@scripts/ioc-db stop

# Catalogues compiled with msgfmt only when a .po changed (compilemessages costs a Django start-up).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po */locale/*/LC_MESSAGES/django.po))
messages: system $(MO_FILES)
%.mo: %.po
	msgfmt --check-format -o $@ $<

migrate: venv db messages
	$(MANAGE) migrate --noinput -v0

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy $(TYPED)

# Every benchmark in turn (benchmarks/run.py: a summary at the end, goes on past a failure). Pass e.g.
# BENCH_ARGS="--only tiles" or BENCH_ARGS="--load-host http://127.0.0.1:8000" (load test: `make demo` running).
bench: setup db
	.venv/bin/pip install -q -e '.[dev,bench]'
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean: db-stop
	rm -rf .venv node_modules static/vendor static_root
