#!/usr/bin/env bash
# The one prepared GPU call of issue 29: set-up, the run (mmc_lib.studies.gpu_runner), then a check that the results
# load. Everything a call makes lands in $OUT (at most 8 files: the device's limit):
#   cells.tar.gz  the cache cells (tar -xzf in the repository root puts them where notebooks 01/05 look)
#   models.tar    TreeDiffusion's fitted models (when it ran)
#   gpu_log.jsonl one line per cell: device, seconds, worker, status
#   gpu_summary.json / gpu_summary.txt  cells done/left, GPU utilisation (nvidia-smi), tables, speed-up vs CPU
#   run.log       this script's output
#
# Modes:
#   benchmarks/gpu_run.sh --pack        HERE, before the call: put what the device lacks in ignored folders of the repo
#                                       (.gpu_data/: the data files; .whl/: diffusers and importlib_metadata wheels)
#   benchmarks/gpu_run.sh [--resume D]  ON THE DEVICE (the call): --prepare, the run (no cell starts after
#                                       STOP_AFTER=480 s), the check. D: a previous call's files (default gpu_out/)
#   benchmarks/gpu_run.sh --prepare     the set-up alone: the device's own CUDA torch (never installed by pip),
#                                       the carried wheels into /tmp/site, a one-fit CUDA self-test
#   benchmarks/gpu_run.sh --dry-small [--out DIR]   the same path on the CPU with the tiny "gpu-small" budget (CI)
#
# The device call (carry the three ignored folders; gpu_out/ only when resuming):
#   run(command="bash benchmarks/gpu_run.sh", carry=[".gpu_data", ".whl", "gpu_out"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=run
OUT_DIR=${OUT:-$ROOT/gpu_out/latest}
RESUME=""
WORKERS=${WORKERS:-}
# seconds since this script began (bash's SECONDS): no cell starts after STOP_AFTER, none expected to end after
# HARD_LIMIT; the rest of the 600 s command is for the cells in flight, the check and the transfer back
STOP_AFTER=${STOP_AFTER:-480}
HARD_LIMIT=${HARD_LIMIT:-540}
while [[ $# -gt 0 ]]; do
  case $1 in
    --pack) MODE=pack ;;
    --prepare) MODE=prepare ;;
    --dry-small) MODE=dry ;;
    --out) OUT_DIR=$2; shift ;;
    --resume) RESUME=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --stop-after) STOP_AFTER=$2; shift ;;
    *) echo "unknown argument: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
  shift
done

pin() {  # the version pyproject.toml pins for package $1
  sed -n "s/^ *\"$1==\([^\"]*\)\".*/\1/p" "$ROOT/pyproject.toml" | head -1
}

if [[ $MODE == pack ]]; then
  DATA=${MMC_DATA_DIR:-$ROOT/../shared/data}
  [[ -f $DATA/MANIFEST.md ]] || { echo "no data folder at $DATA (set MMC_DATA_DIR)" >&2; exit 1; }
  rm -rf .gpu_data && mkdir -p .gpu_data
  cp -r "$DATA"/. .gpu_data/
  PY=${PYTHON:-$ROOT/.venv/bin/python}
  rm -rf .whl && mkdir -p .whl
  # the device has Python 3.12 and no network; diffusers (TreeDiffusion's UNet and schedulers) and its one missing
  # dependency travel as wheels. torch is NOT among them: the device's own CUDA build is used.
  "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
    "diffusers==$(pin diffusers)" "importlib_metadata==$("$PY" -c 'import importlib.metadata as m; print(m.version("importlib_metadata"))')"
  du -sh .gpu_data .whl
  echo "packed; call: run(command=\"bash benchmarks/gpu_run.sh\", carry=[\".gpu_data\", \".whl\", \"gpu_out\"], timeout_s=600)"
  exit 0
fi

prepare() {
  PY=python3
  if [[ -d .whl ]] && compgen -G ".whl/*.whl" >/dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$ROOT
  else
    export PYTHONPATH=$ROOT
  fi
  export MMC_DATA_DIR=${MMC_DATA_DIR:-$ROOT/.gpu_data}
  [[ -d $MMC_DATA_DIR ]] || { echo "no data at $MMC_DATA_DIR: run benchmarks/gpu_run.sh --pack here first" >&2; exit 1; }
  nvidia-smi -L || true
  # the device's own CUDA torch stands in for the pin (torch==$(pin torch), CPU build here): say which ran
  $PY - <<'EOF'
import time, numpy as np, torch
assert torch.cuda.is_available(), "no CUDA device visible to torch"
print(f"torch {torch.__version__} (pinned here: CPU build), CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
from mmc_lib.methods import SiMVC, MVCConfig
rng = np.random.default_rng(0); y = np.repeat([0, 1], 50)
views = [np.c_[y, 1 - y] + rng.normal(0, .2, (100, 2)) for _ in range(2)]
t = time.perf_counter()
labels = SiMVC(2, config=MVCConfig(hidden=(16,), latent_dim=4, epochs=2, batch_size=50, n_restarts=1),
               device="cuda").fit_predict(views)
print(f"self-test: one SiMVC fit on cuda in {time.perf_counter() - t:.1f} s, {len(set(labels))} clusters")
EOF
}

if [[ $MODE == prepare ]]; then
  prepare
  exit 0
fi

if [[ $MODE == dry ]]; then
  # the same runner, scheduler, packing and check on the CPU with the toy budget: a few fits of a few seconds
  PY=${PYTHON:-$ROOT/.venv/bin/python}
  [[ -x $PY ]] || PY=python3
  OUT_DIR=${OUT_DIR/%gpu_out\/latest/build\/gpu_dry}
  mkdir -p "$OUT_DIR"
  ARGS=(--budget gpu-small --device cpu --workers "${WORKERS:-2}" --out "$OUT_DIR" --work "$OUT_DIR/work"
        --studies 01_ddmc --methods EAMC SCMVC SiMVC CoMVC DDMC --datasets synthetic3d mnist-usps)
  [[ -n $RESUME ]] && ARGS+=(--resume "$RESUME")
  set -o pipefail
  { "$PY" -m mmc_lib.studies.gpu_runner run "${ARGS[@]}" --stop-after "$STOP_AFTER" --hard-limit "$HARD_LIMIT"
    "$PY" -m mmc_lib.studies.gpu_runner check "${ARGS[@]}"; } 2>&1 | tee "$OUT_DIR/run.log"
  exit 0
fi

# the device call
mkdir -p "$OUT_DIR"
{
  prepare
  WORK=/tmp/mmc_gpu_work
  ARGS=(--budget gpu --device cuda --out "$OUT_DIR" --work "$WORK" --data-dir "$MMC_DATA_DIR")
  [[ -n $WORKERS ]] && ARGS+=(--workers "$WORKERS")
  if [[ -n $RESUME ]]; then ARGS+=(--resume "$RESUME")
  elif [[ -f gpu_out/cells.tar.gz ]]; then ARGS+=(--resume gpu_out); cp -n gpu_out/gpu_log.jsonl "$OUT_DIR/" 2>/dev/null || true
  fi
  # the guard counts from the script's start: set-up and start-up time come off the run's window
  PYTHONUNBUFFERED=1 python3 -m mmc_lib.studies.gpu_runner run "${ARGS[@]}" --stop-after $((STOP_AFTER - SECONDS)) \
    --hard-limit $((HARD_LIMIT - SECONDS))
  PYTHONUNBUFFERED=1 python3 -m mmc_lib.studies.gpu_runner check "${ARGS[@]}"
} 2>&1 | tee "$OUT_DIR/run.log"
