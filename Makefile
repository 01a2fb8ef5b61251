# Two commands for a new machine:  make demo  (portal with demo data)  ·  make test  (whole suite)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test calendar-check venv browser messages bench clean

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
	$(BIN)/python manage.py makemessages -l zh_Hans --no-location --ignore '.venv/*' --ignore 'node_modules/*'
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore '.venv/*'

# Seed, measure and load one benchmark database (PostgreSQL; see README "Benchmark"):
#   make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_100k CASES=100000
CASES ?= 100000
REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_OUT ?= test-artifacts/bench
bench: $(STAMP)
	@test -n "$(DATABASE_URL)" || { echo "set DATABASE_URL to the benchmark database"; exit 2; }
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 2; }
	mkdir -p $(BENCH_OUT)
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py seed_benchmark --cases $(CASES) --reset
	DATABASE_URL=$(DATABASE_URL) $(BIN)/python manage.py measure_benchmark --json $(BENCH_OUT)/pages-$(CASES).json
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python manage.py load_benchmark --json $(BENCH_OUT)/load-$(CASES).json

clean:
	rm -rf $(VENV) staticfiles
