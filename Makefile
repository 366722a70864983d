# Pastoral — the two commands a new user needs: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DB     ?= var/pastoral.db
PORT   ?= 8501
PYTHON ?= python3
WORKERS ?= auto

.PHONY: install run init demo test test-fast fuzz bench bench-load bench-trust bench-files clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# First run: generate the demo school. Every run: start the app and say where it is.
run: install
	@mkdir -p var
	@if test -f $(DB); then PASTORAL_DB=$(DB) $(VENV)/bin/pastoral demo --logins; \
	 else PASTORAL_DB=$(DB) $(VENV)/bin/pastoral demo; fi  # the demo prints its logins as it is made: once
	@echo ""
	@echo "Pastoral is starting at http://localhost:$(PORT)  (Ctrl+C to stop)"
	PASTORAL_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.address localhost --server.port $(PORT) --server.headless true

# A real school instead of the demo: an empty store with its name and first administrator
# (asks for their password), then `make run` serves it.  make init SCHOOL="Hillside Academy" ADMIN=j.smith
init: install
	@test -n "$(SCHOOL)" -a -n "$(ADMIN)" || { echo 'Usage: make init SCHOOL="Hillside Academy" ADMIN=username'; exit 2; }
	@mkdir -p var
	@PASTORAL_DB=$(DB) $(VENV)/bin/pastoral init --school "$(SCHOOL)" --admin "$(ADMIN)"

# Rebuild the demo school from scratch (never over a real school's store).
demo: install
	@! test -f $(DB) || PASTORAL_DB=$(DB) $(PY) -c 'import sys; from core import store; from data.demo import real_school; \
	  sys.exit(real_school(store.connect()))' || { echo "$(DB) holds a real school; it was not removed. Try: make demo DB=var/demo.db"; exit 1; }
	rm -f $(DB) $(DB)-wal $(DB)-shm
	PASTORAL_DB=$(DB) $(VENV)/bin/pastoral demo

# A worker per core; the browser tests on the shared school stay on one worker (its server
# starts once), as does each browser module with a school of its own; every other test goes
# to whichever worker is free. The test modules pytest compiles (rewriting their asserts) are
# kept for the next run even where PYTHONDONTWRITEBYTECODE is set: compiling them all again
# costs each worker ~4 s of CPU. (__pycache__/ is ignored by git.)
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest

test: install
	$(PYTEST) -n $(WORKERS) --dist loadgroup

test-fast: install
	$(PYTEST) -n $(WORKERS) --dist loadgroup -m "not browser"

bench: install
	@for script in bench/bench_import.py bench/bench_pupils.py bench/bench_screens.py; do echo "== $$script"; $(PY) $$script || exit 1; done
	@echo "== bench/bench_load.py"; $(PY) bench/bench_load.py --sessions $(SESSIONS)

# Sessions signing in and opening Below 90% at once, in headless Chromium (/usr/bin/chromium).
SESSIONS ?= 10
bench-load: install
	$(PY) bench/bench_load.py --sessions $(SESSIONS)

# A trust of 50,000 pupils (~19 M marks): several minutes and ~2.5 GB of temporary disk.
bench-trust: install
	$(PY) bench/bench_trust.py

bench-files: install
	$(PY) bench/bench_files.py

# The property tests (importer fuzzing, the scope reader, the tallies) with 60 times the small
# number of examples the everyday suite tries (thousands of files per test).
fuzz: install
	PASTORAL_FUZZ_FACTOR=60 $(PY) -m pytest -q tests/test_import_bad_input.py tests/test_import_properties.py tests/test_scope.py tests/test_tallies.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
