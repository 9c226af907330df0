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

.PHONY: setup reproduce test unit notebooks-test benchmark clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,test]"
	touch $(STAMP)

setup: $(STAMP)

reproduce: $(STAMP)
	$(PY) -m mmc_lib.run_all --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

# Unit tests and nbval in one pytest run; notebooks write into build/test, never into figures/.
test: $(STAMP)
	MMC_PROFILE=smoke MMC_OUT_DIR=$(CURDIR)/build/test TQDM_DISABLE=1 MMC_NONINTERACTIVE=1 \
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg PYTHONHASHSEED=0 \
	$(PY) -m pytest -n $(JOBS) --dist loadfile -p no:cacheprovider \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	  --doctest-modules mmc_lib tests notebooks

benchmark: $(STAMP)
	$(PY) -m benchmarks.run_benchmarks

clean:
	rm -rf build cache results/smoke
