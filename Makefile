# mmc-companion — two commands do everything on a fresh machine:
#   make reproduce   # set-up + every notebook through papermill (PROFILE=smoke|full)
#   make test        # set-up + unit tests + nbval over every notebook in the smoke profile
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MMC_DATA_DIR ?= $(abspath $(CURDIR)/../shared/data)
export MMC_DATA_DIR
# full on a machine with an NVIDIA GPU, smoke otherwise
PROFILE ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo full || echo smoke)
ONLY ?=
JOBS ?= 2

.PHONY: setup reproduce test unit notebooks-test benchmark clean site browser data

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,test]"
	touch $(STAMP)

setup: $(STAMP)

reproduce: $(STAMP)
	$(PY) -m mmc_lib.run_all --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

# The papers' own data sets into MMC_DATA_DIR (needs internet; verified, resumable): make data [NAME="esp-game ..."].
# Nothing else downloads: reproduce never calls it. `$(PY) -m mmc_lib.data.fetch --list` says what each set verifies.
NAME ?=
data: $(STAMP)
	$(PY) -m mmc_lib.data.fetch $(NAME)

# Read without running: the published notebooks, AUDIT.md and the figures as HTML in build/site/ (index.html).
site: $(STAMP)
	$(PY) -m mmc_lib.site

# Headless Chromium for tests/test_site.py: installed from Debian's packages where we are root; skipped otherwise.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium not installed: the browser test will be skipped"

# Unit tests and nbval in one pytest run; notebooks write into build/test, never into figures/.
test: $(STAMP) browser
	MMC_PROFILE=smoke MMC_OUT_DIR=$(CURDIR)/build/test TQDM_DISABLE=1 MMC_NONINTERACTIVE=1 \
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg PYTHONHASHSEED=0 \
	$(PY) -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	  --doctest-modules mmc_lib tests notebooks

benchmark: $(STAMP)
	$(PY) -m benchmarks.run_benchmarks

clean:
	rm -rf build cache results/smoke
