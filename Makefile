# The README's commands. `make run` starts the whole product; `make test` builds the
# environment if needed and runs the whole suite.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench demo clean system-deps

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) tidak ditemukan (Python 3.11 atau 3.12 diperlukan)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Optional system packages (Tesseract OCR, poppler's pdfsig, SoftHSM2, Chromium); the product
# works without them and uses each one when present.
system-deps:
	bash scripts/system-deps.sh

run: $(STAMP)
	$(PY) -m flask --app app up

demo: $(STAMP)
	$(PY) -m flask --app app demo --out instance/demo

# ruff, the layer contracts (import-linter, pyproject.toml) and the checks it cannot make
# (no import cycles, no unexplained import inside a function).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/check_imports.py

test: $(STAMP) lint
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache

# Scan triage on the real-scan calibration set (images fetched into the ignored
# bench/real/images/ by `$(PY) -m bench.real.materialize`; pass NIK_TRUTH=private file).
# The pages and the API with years of records behind them (SCALE=regency|province; DATABASE_URL
# for PostgreSQL). Figures join bench/results.json.
.PHONY: bench-scale
bench-scale: $(STAMP)
	$(PY) -m bench scale

.PHONY: bench-real
bench-real: $(STAMP)
	$(PY) -m bench.real.score $(if $(NIK_TRUTH),--nik-truth $(NIK_TRUTH)) $(if $(FORM),--form $(FORM))
