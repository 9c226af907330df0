#!/usr/bin/env bash
# A prepared GPU call for issues 24 and 26, beside gpu_run.sh (issue 29): two benchmarks share one lent device, each
# inside one wall-clock guard, and what they measured comes back under $OUT:
#   mvc_gpu.jsonl           the MVC side-by-side campaign on CUDA (benchmarks/mvc_side_by_side.py queue): CoMVC and
#                           SiMVC, seeds 0-4, the authors' code and ours in fp32, then ours in bf16; finished runs only
#   mvc_queue.log           the queue's start/finish lines
#   treediffusion_gpu.log   benchmarks/bench_treediffusion.py --profile gpu: TreeVAE, then the denoiser at the authors'
#                           schedule with its FID/KID/recognised curve on the held-out images, one line per point
#   treediffusion_gpu.json  the same as JSON, written only if the whole schedule ends inside the guard
#   nvidia_smi.log          utilisation and memory every 20 s
#
# Here, before the call (the device has Python 3.12, its own CUDA torch and no network):
#   benchmarks/gpu_run.sh --pack                                      # .gpu_data/ (only mnist/ is needed) and .whl/
#   python benchmarks/mvc_side_by_side.py export --npz .mvc/mnist_usps.npz   # re-save it with np.savez_compressed
#     (the working tree and the carried folders must stay under 64 MiB; 30 MB -> 3 MB)
#   cp -r /work/ext/mvc/src .mvc/src && cp -r /work/ext/pylib .mvc/pylib   # their code, pydantic 1.x, tabulate (drop *.so)
# The call:
#   run(command="bash benchmarks/gpu_side_runs.sh", carry=[".gpu_data", ".whl", ".mvc"], timeout_s=600)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT_DIR=${OUT:-$ROOT/build/gpu_side}
LIMIT=${LIMIT:-530}   # seconds from the script's start after which both benchmarks are stopped
JOBS=${JOBS:-12}      # MVC runs at a time (one process each)
mkdir -p "$OUT_DIR"

python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$ROOT MMC_DATA_DIR=$ROOT/.gpu_data PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

(while sleep 20; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader; done) \
  > "$OUT_DIR/nvidia_smi.log" 2>&1 &
SMI=$!
LEFT=$((LIMIT - SECONDS))
PYTHONPATH=$ROOT/.mvc/pylib:$PYTHONPATH timeout "$LEFT" python3 benchmarks/mvc_side_by_side.py queue --device cuda \
  --jobs "$JOBS" --npz .mvc/mnist_usps.npz --mvc-src .mvc/src --precisions fp32 bf16 --out "$OUT_DIR/mvc_gpu.jsonl" \
  > "$OUT_DIR/mvc_queue.log" 2>&1 &
MVC=$!
timeout "$LEFT" python3 benchmarks/bench_treediffusion.py --profile gpu --device cuda --eval-every 2000 \
  --json "$OUT_DIR/treediffusion_gpu.json" > "$OUT_DIR/treediffusion_gpu.log" 2>&1 &
TD=$!
wait "$MVC" "$TD"
# the queue's runs are its children: a run cut by the guard writes nothing, so stop them with it
pkill -f "mvc_side_by_side.py run" || true
kill "$SMI" 2>/dev/null || true
echo "--- after ${SECONDS} s"
tail -n 5 "$OUT_DIR/mvc_queue.log" "$OUT_DIR/treediffusion_gpu.log"
wc -l "$OUT_DIR/mvc_gpu.jsonl" 2>/dev/null || echo "no MVC run finished"
