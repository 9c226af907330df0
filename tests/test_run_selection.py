"""The paper's run selection (issue 24, item 2): ``MVCConfig(selection="ddc1")`` checkpoints each run at its lowest
eval ``ddc_1`` and keeps the run with the lowest ``ddc_1`` — label free."""

import inspect

import numpy as np
import pytest
import torch

import mmc_lib.methods.base as mvc  # the base owns the run selection (issue 22)
from mmc_lib.methods import DDMC, CoMVC, MVCConfig, SiMVC
from mmc_lib.nn import BestCheckpoint, Hooks, train

CFG = MVCConfig(hidden=(16,), latent_dim=4, epochs=8, batch_size=30, n_restarts=3, selection="ddc1",
                checkpoint_every=2)
MAKERS = {"SiMVC": lambda c: SiMVC(3, config=c, seed=4), "CoMVC": lambda c: CoMVC(3, config=c, seed=4),
          "DDMC": lambda c: DDMC(3, dominant=0, config=c, seed=4)}


def _views(n_per=30, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 6)) * 2
    views = [(centres[y] + rng.normal(0, .7, (len(y), 6))).astype(np.float32),
             (centres[y][:, ::-1] + rng.normal(0, .7, (len(y), 6))).astype(np.float32)]
    return views, y


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_keeps_the_run_and_the_checkpoint_with_the_lowest_ddc1(name):
    views, _ = _views()
    model = MAKERS[name](CFG).fit(views)
    assert len(model.run_scores_) == 3 and model.selected_run_ == int(np.argmin(model.run_scores_))
    # each run's score is the lowest of its checks (every 2 epochs), and its kept weights come from that epoch
    assert all(e in (2, 4, 6, 8) for e in model.checkpoint_epochs_)
    checks = {r["epoch"]: r["eval_ddc1"] for r in model.history_ if "eval_ddc1" in r}
    assert sorted(checks) == [2, 4, 6, 8]
    assert min(checks.values()) == model.run_scores_[model.selected_run_]
    assert checks[model.checkpoint_epochs_[model.selected_run_]] == model.run_scores_[model.selected_run_]
    # the kept model IS the checkpoint: its eval ddc_1 is the selected score
    tensors = [torch.as_tensor(v) for v in views]
    assert mvc.eval_ddc1(model.model_, tensors, CFG.batch_size) == pytest.approx(model.run_scores_[model.selected_run_],
                                                                                 abs=1e-6)


def test_planted_scores_pick_the_lowest_run(monkeypatch):
    """eval_ddc1 replaced by planted values: run 1's check at epoch 4 is the lowest of all runs and epochs."""
    planted = {0: [0.50, 0.40, 0.45, 0.41], 1: [0.60, 0.10, 0.30, 0.35], 2: [0.20, 0.25, 0.22, 0.21]}
    calls = []

    def fake(module, tensors, batch_size):
        run = len(calls) // 4
        calls.append(run)
        return planted[run][(len(calls) - 1) % 4]

    monkeypatch.setattr(mvc, "eval_ddc1", fake)
    views, _ = _views()
    model = SiMVC(3, config=CFG, seed=4).fit(views)
    assert model.selected_run_ == 1
    assert model.run_scores_ == [0.40, 0.10, 0.20]
    assert model.checkpoint_epochs_ == [4, 4, 2]


def test_never_reads_labels():
    views, y = _views()
    rng = np.random.default_rng(1)
    a = CoMVC(3, config=CFG, seed=4).fit(views, y)
    b = CoMVC(3, config=CFG, seed=4).fit(views, rng.permutation(y))
    c = CoMVC(3, config=CFG, seed=4).fit(views)
    assert a.selected_run_ == b.selected_run_ == c.selected_run_
    assert a.run_scores_ == b.run_scores_ == c.run_scores_ and a.checkpoint_epochs_ == c.checkpoint_epochs_
    assert np.array_equal(a.labels_, b.labels_) and np.array_equal(a.labels_, c.labels_)


def test_no_label_argument_reaches_the_selection(monkeypatch):
    views, y = _views()
    seen = []
    real_score, real_select = mvc.eval_ddc1, mvc.select_run

    def spy_score(module, tensors, batch_size):
        seen.extend(tensors)
        return real_score(module, tensors, batch_size)

    def spy_select(scores):
        seen.append(np.asarray(scores))
        return real_select(scores)

    monkeypatch.setattr(mvc, "eval_ddc1", spy_score)
    monkeypatch.setattr(mvc, "select_run", spy_select)
    SiMVC(3, config=CFG, seed=4).fit(views, y)
    assert seen and not any(np.asarray(a).shape == y.shape for a in seen)  # views (n, d) and scores (3,) only
    for fn in (real_score, real_select, BestCheckpoint.__init__):
        assert not {"y", "labels", "y_true"} & set(inspect.signature(fn).parameters)


def test_one_run_checked_at_the_last_epoch_only_is_the_plain_fit():
    """selection="ddc1" with one run and a check only at the last epoch changes nothing but the bookkeeping: the
    check runs on a forked, fixed-seed generator, so the training's random stream is untouched."""
    views, _ = _views()
    plain = MVCConfig(hidden=(16,), latent_dim=4, epochs=5, batch_size=30, n_restarts=1)
    one = MVCConfig(hidden=(16,), latent_dim=4, epochs=5, batch_size=30, n_restarts=1, selection="ddc1",
                    checkpoint_every=5)
    a, b = CoMVC(3, config=plain, seed=2).fit(views), CoMVC(3, config=one, seed=2).fit(views)
    assert np.array_equal(a.embedding_, b.embedding_) and b.checkpoint_epochs_ == [5]


def test_bad_selection_is_a_clear_error():
    with pytest.raises(ValueError, match="selection"):
        MVCConfig(selection="acc")
    with pytest.raises(ValueError, match="checkpoint_every"):
        MVCConfig(checkpoint_every=0)
    with pytest.raises(ValueError, match="non-empty"):
        mvc.select_run([])


def test_best_checkpoint_restores_the_weights_of_its_lowest_check():
    """The trainer's hook on a real loop: a planted score sequence; restore() gives back the epoch-3 weights."""
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 1)
    x = torch.randn(16, 2)
    scores = iter([5.0, 4.0, 1.0, 3.0, 2.0])
    ckpt = BestCheckpoint(net, lambda: next(scores), every=1, last_epoch=5)
    kept = {}

    def remember(epoch, record):
        ckpt(epoch, record)
        kept[epoch] = net.weight.detach().clone()

    def loss(batch, epoch):
        out = net(x[batch]).pow(2).mean()
        return {"total": out}

    history = train(loss, torch.optim.SGD(net.parameters(), lr=0.1), lambda: [torch.arange(16)], 5, module=net,
                    hooks=Hooks(on_epoch=remember))
    assert [r["checkpoint_score"] for r in history] == [5.0, 4.0, 1.0, 3.0, 2.0]
    assert not torch.equal(net.weight, kept[3])
    ckpt.restore()
    assert ckpt.best_epoch == 3 and torch.equal(net.weight, kept[3])


# ------------------------------------------------------------------------------------------------ studies

def test_selection_summary_gives_one_run_and_the_selected_run_without_reading_metrics():
    import pandas as pd

    from mmc_lib.studies.ddmc import selection_summary

    runs = pd.DataFrame({"method": ["CoMVC"] * 4 + ["SiMVC"] * 4, "dataset": ["mnist-usps"] * 8,
                         "seed": [0, 1, 2, 3] * 2, "final_ddc1": [.3, .1, .2, .4, .2, .25, .15, .3],
                         "acc": [.9, .8, .85, .95, .7, .75, .72, .8], "nmi": [.8] * 8})
    table = selection_summary(runs)
    picked = table[table.protocol == "paper's selection"].set_index("method")
    assert picked.loc["CoMVC", "seed"] == 1 and picked.loc["SiMVC", "seed"] == 2
    assert picked.loc["CoMVC", "acc_mean"] == .8
    one = table[table.protocol == "one run"].set_index("method")
    assert one.loc["CoMVC", "acc_mean"] == pytest.approx(.875) and one.loc["CoMVC", "n_runs"] == 4
    shuffled = runs.assign(acc=np.random.default_rng(0).permutation(runs.acc.values))
    again = selection_summary(shuffled)
    assert again[again.protocol == "paper's selection"].seed.tolist() == picked.seed.tolist()


def test_run_deep_passes_the_selection_through():
    from mmc_lib.data import available
    from mmc_lib.studies.ddmc import run_deep

    if not available("synthetic3d"):
        pytest.skip("synthetic3d absent")
    r = run_deep("SiMVC", "synthetic3d", 0, epochs=4, n_restarts=2, max_samples=60, selection="ddc1",
                 checkpoint_every=2)
    assert r["checkpoint_epoch"] in (2, 4) and 0 <= r["final_ddc1"] <= 1
    plain = run_deep("SiMVC", "synthetic3d", 0, epochs=4, n_restarts=2, max_samples=60)
    assert plain["checkpoint_epoch"] == 4


def test_budgets_switch_the_deep_rows_to_the_papers_selection():
    from dataclasses import replace

    from mmc_lib.studies.budgets import budget, selection_option
    from mmc_lib.studies.ddmc import DDMCStudy
    from mmc_lib.studies.generalisation import GeneralisationStudy

    full = budget("06_generalisation", "full")
    assert full.selection == "objective" and selection_option(full) == {}  # the default keeps older cache keys
    paper = replace(full, selection="ddc1", n_restarts=5)
    runs = GeneralisationStudy(paper).deep_runs()
    assert all(r["selection"] == "ddc1" and r["checkpoint_every"] == 4 and r["n_restarts"] == 5 for r in runs)
    assert all("selection" not in r for r in GeneralisationStudy(full).deep_runs())
    ddmc = replace(budget("01_ddmc", "smoke"), selection="ddc1")
    assert all(r["selection"] == "ddc1" for r in DDMCStudy(ddmc).main_runs()[0])
    with pytest.raises(ValueError, match="selection"):
        selection_option(replace(full, selection="acc"))
