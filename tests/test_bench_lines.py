"""The parseable lines of the issue-24 benchmarks (no timing here: the lines' content from planted runs)."""

import math

from benchmarks import bench_mnist_usps, bench_optimizer


def _parse(line: str) -> dict:
    head, *pairs = line.split()
    return {"name": head, **dict(p.split("=", 1) for p in pairs)}


def test_mnist_usps_line_has_the_distribution_and_the_run_the_paper_keeps():
    runs = [{"method": "CoMVC", "seed": s, "acc": acc, "nmi": acc - .05, "ddc1": d, "seconds": 10.0, "device": "cpu",
             "threads": 1} for s, acc, d in ((0, .90, .30), (1, .80, .10), (2, .85, .20))]
    line = _parse(bench_mnist_usps.summary(runs, "fp32"))
    assert line["name"] == "CoMVC" and line["n"] == "3" and line["precision"] == "fp32"
    assert float(line["acc_mean"]) == 0.85 and math.isclose(float(line["acc_std"]), 0.05, abs_tol=1e-4)
    assert line["selected_seed"] == "1" and float(line["selected_acc"]) == 0.80  # the lowest ddc_1, not the best ACC


def test_mnist_usps_default_is_fp32_with_the_papers_checkpoints():
    cfg = bench_mnist_usps.main_config()
    assert cfg.cnn_bf16 is False and cfg.selection == "ddc1" and cfg.checkpoint_every == 4
    assert bench_mnist_usps.main_config(checkpoint_every=0).selection == "objective"


def test_optimizer_lines_are_key_value_pairs():
    rows = [{"bench": "SCMVC", "impl": impl, "cpu_steps_per_s": v, "optimizer_share": share}
            for impl, v, share in (("single", 2.0, .4), ("foreach", 3.0, .1))]
    summary = _parse(bench_optimizer.fmt(bench_optimizer.summary(rows)))
    assert summary["name"].startswith("summary=") and float(summary["speedup_foreach"]) == 1.5
    assert float(summary["share_single"]) == 0.4
    assert _parse("x " + bench_optimizer.fmt(rows[0]))["impl"] == "single"
