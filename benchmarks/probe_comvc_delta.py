"""Probe (not a benchmark, not run by make benchmark): CoMVC with MLP encoders on all of MNIST-USPS, seed 0, one
restart, at the reference default delta = 0.1 and at 1 and 20. Output of 2026-11-27 in benchmarks/out/comvc_delta.txt.
Labels are used only to evaluate; the main table keeps the reference default."""
import time, torch
torch.set_num_threads(1)
from mmc_lib.data import load
from mmc_lib.methods import CoMVC, MVCConfig
from mmc_lib.metrics import accuracy
ds = load("mnist-usps", data_dir="/work/shared/data")
for delta in (0.1, 1.0, 20.0):
    t = time.time()
    m = CoMVC(10, delta=delta, config=MVCConfig(n_restarts=1), seed=0).fit(ds.views)
    print(f"delta={delta} acc={accuracy(ds.labels, m.labels_):.3f} seconds={time.time()-t:.0f}", flush=True)
