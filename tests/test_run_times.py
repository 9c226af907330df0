"""The README's run times come from the committed provenance, and run_all records them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmc_lib import results, run_times
from mmc_lib.runtime import project_root

ROOT = project_root()


@pytest.mark.parametrize("readme", run_times.READMES)
def test_readme_run_times_match_committed_provenance(readme):
    block = run_times.markdown_table(run_times.run_times("full", out_dir=ROOT))
    text = (ROOT / readme).read_text()
    assert run_times.replace_block(text, block) == text, (
        f"{readme}'s run-time table drifted from results/full/*.json: run `python -m mmc_lib.run_times`")


def test_every_committed_full_result_states_its_wall_time_and_cores():
    for record in run_times.run_times("full", out_dir=ROOT):
        assert record["seconds"] and record["seconds"] > 0, record["notebook"]
        assert record["cores"], record["notebook"]


def test_table_totals_and_marks_unmeasured_notebooks():
    recs = [{"notebook": "00_x", "seconds": 90.0, "source": "run_all", "cores": 2, "cpu": "CPU", "torch_threads": 1,
             "device": "cpu", "date": "2026-01-01", "commit": "abc1234"},
            {"notebook": "01_y", "seconds": None, "source": None, "cores": None, "cpu": None, "torch_threads": None,
             "device": "cuda", "date": "2026-01-02", "commit": "def5678"}]
    table = run_times.markdown_table(recs)
    assert "| `00_x` | 90 s | cpu, 2 cores (CPU) |" in table
    assert "| `01_y` | not measured |" in table
    assert "**90 s** | 1 of 2 notebooks measured" in table
    with pytest.raises(ValueError, match="markers"):
        run_times.replace_block("no markers here", table)


def test_record_wall_time_writes_only_files_of_this_run(tmp_path):
    path = results.save_results("00_x", [{"method": "KM", "dataset": "d", "metric": "acc", "mean": 0.5, "std": 0.0,
                                          "n_seeds": 1}], profile="smoke", device="cpu", out_dir=tmp_path)
    stamp = path.stat().st_mtime
    assert not results.record_wall_time("00_x", "smoke", 12.3, since=stamp + 10, out_dir=tmp_path)  # an older file
    assert results.record_wall_time("00_x", "smoke", 12.34, since=stamp - 1, out_dir=tmp_path)
    prov = json.loads(Path(path).read_text())["provenance"]
    assert prov["wall_seconds"] == 12.3 and prov["wall_seconds_source"] == "run_all"
    assert prov["machine"]["cpu_cores"] >= 1 and "torch" in prov["machine"]["threads"]
    assert not results.record_wall_time("99_missing", "smoke", 1.0, since=0, out_dir=tmp_path)
    assert "cpu_seconds" not in prov  # only recorded when measured
    assert results.record_wall_time("00_x", "smoke", 20.0, since=stamp - 1, out_dir=tmp_path, cpu_seconds=37.26)
    assert json.loads(Path(path).read_text())["provenance"]["cpu_seconds"] == 37.3


def test_children_cpu_seconds_counts_a_finished_child_process():
    import subprocess
    import sys

    from mmc_lib.run_all import children_cpu_seconds

    before = children_cpu_seconds()
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    assert children_cpu_seconds() - before > 0.05  # the child's busy loop is counted once it has been reaped


def _tiny_notebook(path: Path, source: str) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return path


def test_run_all_prints_one_quiet_line_per_notebook_and_the_full_error(tmp_path, capfd):
    from mmc_lib import run_all

    ok = _tiny_notebook(tmp_path / "00_ok.ipynb", "print(x + 1)")
    bad = _tiny_notebook(tmp_path / "01_bad.ipynb", "raise RuntimeError('planted failure')")
    run_all._quiet_libraries()
    assert run_all.run_one(ok, tmp_path / "out" / ok.name, {"x": 2}, 120)[0] == "ok"
    status, _ = run_all.run_one(bad, tmp_path / "out" / bad.name, {"x": 2}, 120)
    out, err = capfd.readouterr()
    assert status.startswith("FAILED")
    lines = [line for line in out.splitlines() if line.startswith(("00_ok", "01_bad"))]
    assert len(lines) == 2 and lines[0].split()[1] == "ok" and lines[0].endswith(" s")
    assert "planted failure" in out  # a real error is shown in full
    assert "without encryption" not in out + err and "Black is not installed" not in out + err
