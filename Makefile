# Two commands for a new machine:  make demo  (portal with demo data)  ·  make test  (whole suite)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-code test calendar-check venv browser messages bench bench-import clean cluster-check

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The second-factor code of the demo administrators and superuser (their published key), for the login.
demo-code: $(STAMP)
	@$(BIN)/python manage.py demo_code

# Debian's chromium + CJK fonts for the browser journeys (installed when root and missing).
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi "Noto Sans CJK" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y -q chromium fonts-noto-cjk >/dev/null; \
	  else echo "note: chromium/fonts-noto-cjk missing; browser journeys will be skipped"; fi; }

test: $(STAMP) browser
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest

# The date-sensitive tests under hard clocks (31 Dec 23:59, 1 Jan, the 1st, 29 Feb, a 30-day month's end;
# Beijing and UTC), the machine in UTC. CLOCKS="<ISO datetime with offset> …" for others; ALL=1 for every test.
calendar-check: $(STAMP)
	.ci/calendar-check

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-location --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'test-artifacts/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*' --ignore 'test-artifacts/*'

# Seed, measure and load one benchmark database (PostgreSQL; see README "Benchmark"). The commands
# live in the benchmarks app, installed only by benchmarks.settings (never in production):
#   make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_100k CASES=100000
CASES ?= 100000
REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_OUT ?= test-artifacts/bench
bench: $(STAMP)
	@test -n "$(DATABASE_URL)" || { echo "set DATABASE_URL to the benchmark database"; exit 2; }
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 2; }
	mkdir -p $(BENCH_OUT)
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py seed_benchmark --settings benchmarks.settings --cases $(CASES) --reset
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py measure_benchmark --settings benchmarks.settings --json $(BENCH_OUT)/pages-$(CASES).json
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py load_benchmark --settings benchmarks.settings --json $(BENCH_OUT)/load-$(CASES).json

# Primary + streaming replica, PgBouncer, Redis, two gunicorn hosts and HAProxy on loopback, under
# load, losing a host and the replica (see deploy/README.md). Installs haproxy/pgbouncer when root.
cluster-check: $(STAMP)
	$(BIN)/python -m governance.cluster.check

# Build the 莲湖-size area workbook (100,000 households) and time import_area on it, twice
# (the second run changes nothing). Use a fresh PostgreSQL database (see README "Onboarding an area"):
#   make bench-import DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_area
bench-import: $(STAMP)
	@test -n "$(DATABASE_URL)" || { echo "set DATABASE_URL to an empty benchmark database"; exit 2; }
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py migrate --no-input -v0
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py bench_area_import --again --out $(BENCH_OUT)/lianhu-area.xlsx

clean:
	rm -rf $(VENV) staticfiles
