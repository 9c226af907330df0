"""DM2C: loss terms on hand-computed cases, determinism, divergence detection, input errors, the data protocol."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
import torch
from torch import nn

from mmc_lib.data import available
from mmc_lib.methods.crossmodal.dm2c import DM2C, check_modality, diverged
from mmc_lib.methods.crossmodal.dm2c_parts import DM2CConfig, DM2CNets, critic_losses, forward, generator_losses
from mmc_lib.metrics import accuracy

TINY = DM2CConfig(hidden=(16,), latent_dim=8, gen_hidden=(16,), pretrain_epochs=3, epochs=3, batch_size=32,
                  kmeans_n_init=2)


def blobs(seed=0, n=90, k=3):
    """Two unpaired modalities of the same k classes: A in 8-d, B in 5-d (different class geometry)."""
    rng = np.random.default_rng(seed)
    ya, yb = np.repeat(np.arange(k), n // k), np.repeat(np.arange(k), n // k)
    ca, cb = rng.normal(0, 3, (k, 8)), rng.normal(0, 3, (k, 5))
    x_a = ca[ya] + rng.normal(0, 0.3, (len(ya), 8))
    x_b = cb[yb] + rng.normal(0, 0.3, (len(yb), 5))
    return x_a.astype(np.float32), x_b.astype(np.float32), ya, yb


class Const(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, z):
        return torch.full((len(z), 1), self.value)


class SumCritic(nn.Module):
    def forward(self, z):
        return z.sum(1, keepdim=True)  # D(z) = 1ᵀz


def test_cycle_loss_is_zero_for_inverse_generators_and_total_is_eq4():
    torch.manual_seed(0)
    nets = DM2CNets(5, 3, TINY)
    nets.g_ab, nets.g_ba = nn.Identity(), nn.Identity()  # G_BA(G_AB(z)) = z exactly
    nets.d_a, nets.d_b = SumCritic(), SumCritic()
    x_a, x_b = torch.rand(6, 5), torch.rand(4, 3)
    out = forward(nets, x_a, x_b)
    losses = generator_losses(nets, x_a, x_b, out, lambda_cyc=2.0, lambda_adv=0.5, lambda_rec=3.0)
    assert losses["cyc_a"].item() == 0.0 and losses["cyc_b"].item() == 0.0
    # generator side of eq. 3 with identity generators: -mean(1ᵀ z_b) - mean(1ᵀ z_a)
    expected_adv = -out.z_b.sum(1).mean() - out.z_a.sum(1).mean()
    assert torch.isclose(losses["adv"], expected_adv)
    expected_total = 0.5 * losses["adv"] + 3.0 * (losses["rec_a"] + losses["rec_b"])
    assert torch.isclose(losses["total"], expected_total)


def test_cycle_loss_value_on_a_hand_computed_shift():
    nets = DM2CNets(5, 3, TINY)
    shift = 0.25

    class Shift(nn.Module):
        def forward(self, z):
            return z + shift

    nets.g_ab, nets.g_ba = Shift(), Shift()  # G_BA(G_AB(z)) = z + 0.5 → L1 mean = 0.5
    x_a, x_b = torch.rand(6, 5), torch.rand(4, 3)
    losses = generator_losses(nets, x_a, x_b, forward(nets, x_a, x_b), lambda_cyc=1.0, lambda_adv=0.0,
                              lambda_rec=0.0)
    assert losses["cyc_a"].item() == pytest.approx(0.5, abs=1e-6)
    assert losses["cyc_b"].item() == pytest.approx(0.5, abs=1e-6)


def test_critic_loss_value_and_gradient_sign():
    nets = DM2CNets(5, 3, TINY)
    nets.eval()
    x_a, x_b = torch.rand(6, 5), torch.rand(4, 3)
    out = forward(nets, x_a, x_b)
    nets.d_a, nets.d_b = Const(1.5), Const(-2.0)
    assert critic_losses(nets, out)["total"].item() == 0.0  # a constant critic cannot tell real from fake
    nets.d_a, nets.d_b = SumCritic(), SumCritic()
    losses = critic_losses(nets, out)
    expected = (out.b_to_a.sum(1).mean() - out.z_a.sum(1).mean()) + (out.a_to_b.sum(1).mean() - out.z_b.sum(1).mean())
    assert torch.isclose(losses["total"], expected.detach())
    # the generator's adversarial gradient pushes fakes towards a higher critic score: d adv / d fake < 0
    fake = out.b_to_a.detach().requires_grad_(True)
    (-nets.d_a(fake).mean()).backward()
    assert (fake.grad < 0).all()


def test_fixed_seed_gives_identical_numbers_and_keeps_global_rng():
    x_a, x_b, _, _ = blobs()
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    m1 = DM2C(3, config=TINY, seed=7).fit(x_a, x_b)
    assert torch.equal(torch.rand(3), expected_next)  # fit used its own RNG stream
    m2 = DM2C(3, config=TINY, seed=7).fit(x_a, x_b)
    np.testing.assert_array_equal(m1.labels_, m2.labels_)
    np.testing.assert_array_equal(m1.embedding_, m2.embedding_)
    assert m1.history_ == m2.history_
    m3 = DM2C(3, config=TINY, seed=8).fit(x_a, x_b)
    assert m3.history_ != m1.history_


def test_recovers_the_classes_within_each_modality():
    x_a, x_b, ya, yb = blobs(n=150)
    cfg = DM2CConfig(hidden=(32,), latent_dim=8, gen_hidden=(16,), pretrain_epochs=30, epochs=15, batch_size=32,
                     kmeans_n_init=5)
    model = DM2C(3, config=cfg, seed=0)
    labels = model.fit_predict(x_a, x_b)
    assert labels.shape == (len(x_a) + len(x_b),)
    assert accuracy(ya, labels[:len(x_a)]) > 0.9
    assert accuracy(yb, labels[len(x_a):]) > 0.9
    assert [h["epoch"] for h in model.history_] == list(range(1, cfg.epochs + 1))  # epochs count from 1
    # predict on the training rows reproduces the fitted labels
    np.testing.assert_array_equal(model.predict(x_a, x_b), labels)


def test_weight_clipping_and_no_adv_ablation():
    x_a, x_b, _, _ = blobs()
    cfg = DM2CConfig(**{**TINY.__dict__, "critic_every": 1, "clip_value": 0.01})
    model = DM2C(3, config=cfg).fit(x_a, x_b)
    assert all(p.abs().max() <= 0.01 + 1e-7 for p in model.nets_.critic_parameters())
    assert "wasserstein" in model.history_[-1]
    ablated = DM2C(3, lambda_adv=0.0, config=cfg, seed=0).fit(x_a, x_b)
    assert "wasserstein" not in ablated.history_[-1]
    torch.manual_seed(0)  # fit builds its networks right after seeding → same initial critics
    initial = DM2CNets(8, 5, cfg)
    for p0, p1 in zip(initial.critic_parameters(), ablated.nets_.critic_parameters()):
        assert torch.equal(p0, p1)  # with no adversarial term the critics are never updated


def test_divergence_is_detected_and_reported():
    x_a, x_b, _, _ = blobs()
    with pytest.raises(FloatingPointError, match="diverged"):
        DM2C(3, config=TINY).fit(x_a * 1e5, x_b)  # reconstruction error ~1e10 > divergence_limit
    assert diverged([{"g_total": 1.0, "rec_a": 0.1, "rec_b": 0.1}, {"g_total": 1.0, "rec_a": 500.0, "rec_b": 0.1}])
    assert not diverged([{"g_total": 1.0, "rec_a": 0.1, "rec_b": 0.1}, {"g_total": -3.0, "rec_a": 0.1, "rec_b": 0.1}])


@pytest.mark.parametrize("bad_a, bad_b, message", [
    (np.zeros((0, 8)), None, "x_a has zero samples"),
    (None, np.zeros((0, 5)), "x_b has zero samples"),
    ([[0.0, 1.0], [0.0, 1.0, 2.0]], None, "mixes feature widths"),
    (None, "nan", "NaN/inf"),
    (np.zeros(8), None, "must be 2-D"),
])
def test_bad_input_gets_a_clear_error(bad_a, bad_b, message):
    x_a, x_b, _, _ = blobs()
    if isinstance(bad_b, str):
        bad_b = x_b.copy()
        bad_b[3, 1] = np.nan
    with pytest.raises(ValueError, match=message):
        DM2C(3, config=TINY).fit(x_a if bad_a is None else bad_a, x_b if bad_b is None else bad_b)


def test_argument_and_predict_errors():
    x_a, x_b, _, _ = blobs()
    with pytest.raises(ValueError, match="must be smaller than the number of samples"):
        DM2C(1000, config=TINY).fit(x_a, x_b)
    with pytest.raises(ValueError, match="unknown unify"):
        DM2C(3, config=TINY, unify="c").fit(x_a, x_b)
    with pytest.raises(ValueError, match="lambda_cyc must be >= 0"):
        DM2C(3, config=TINY, lambda_cyc=-1).fit(x_a, x_b)
    with pytest.raises(NotFittedError, match="not fitted"):
        DM2C(3).predict(x_a, x_b)
    model = DM2C(3, config=TINY).fit(x_a, x_b)
    with pytest.raises(ValueError, match="has 4 features but the model was fitted with 5"):
        model.predict(x_a, x_b[:, :4])
    assert check_modality(x_a, "x_a").dtype == np.float32


def test_unified_embedding_shapes():
    x_a, x_b, _, _ = blobs()
    model = DM2C(3, config=TINY).fit(x_a, x_b)
    for unify in ("a", "b", "none"):
        assert model.transform(x_a, x_b, unify=unify).shape == (len(x_a) + len(x_b), TINY.latent_dim)
    # pretrained own-modality latents differ from the jointly trained ones
    assert not np.allclose(model.transform(x_a, x_b, unify="none", pretrained=True),
                           model.transform(x_a, x_b, unify="none"))


@pytest.mark.skipif(not (available("wikipedia") and available("wikipedia-test")), reason="Wikipedia files absent")
def test_wikipedia_train_test_split():
    from mmc_lib.data import load, wikipedia_split

    train, test = wikipedia_split(scale=True)
    assert (train.n_samples, test.n_samples) == (2173, 693)
    np.testing.assert_array_equal(test.labels, load("wikipedia-test").labels)
    assert train.n_samples + test.n_samples == load("wikipedia").n_samples


def test_dm2c_run_reports_a_diverged_run(monkeypatch):
    """A diverging fit becomes diverged=True with its error and no scores — never silently kept."""
    import mmc_lib.studies.dm2c as E
    from mmc_lib.data import MixedModalDataset

    x_a, x_b, ya, yb = blobs()
    mix = MixedModalDataset("toy", x_a * 1e5, x_b, ya, yb, np.arange(len(ya)), np.arange(len(yb)), ("A", "B"), 3)
    monkeypatch.setattr(E, "mixed_splits", lambda *a, **k: (mix, None))
    out = E.dm2c_run("cub", 0, profile="smoke")
    assert out["diverged"] is True and "diverged" in out["error"]
    assert not any("|" in key for key in out)


def test_paper_comparison_takes_the_paper_values_from_the_ledger(monkeypatch):
    """The paper's numbers come from claims/dm2c.yaml, not from the study."""
    from dataclasses import replace

    import mmc_lib.studies.dm2c as E
    from mmc_lib.audit import claims_dir, load_ledger
    from mmc_lib.studies.dm2c import paper_comparison, paper_values

    ledger = load_ledger(claims_dir() / "dm2c.yaml")
    claimed = {(c.method, c.metric): c.value for c in ledger.claims if c.kind == "value" and c.dataset == "Wikipedia"}
    row = {"method": "DM2C", "dataset": "wikipedia", "metric": "acc", "mean": 0.3, "std": 0.01, "setting": "main"}
    table = paper_comparison([row], "wikipedia").set_index(["method", "metric"])
    assert len(table) == len(claimed) == 30
    assert table.loc[("DM2C", "acc"), "paper"] == claimed[("DM2C", "acc")] == 0.272
    assert table["paper"].to_dict() == claimed
    assert table.loc[("DM2C", "acc"), "ours"] == "0.300 ± 0.010"
    assert table.loc[("DM2C", "acc"), "ours - paper"] == round(0.3 - 0.272, 4)
    assert table.loc[("IMSAT", "acc"), "ours"] == "—"
    # an edit of the ledger shows up in the table and in the figure's markers
    edited = replace(ledger, claims=[replace(c, value=0.5) if c.id == "dm2c.wikipedia.dm2c.acc" else c
                                     for c in ledger.claims])
    monkeypatch.setattr(E, "load_ledger", lambda path: edited)
    assert paper_comparison([row], "wikipedia").set_index(["method", "metric"]).loc[("DM2C", "acc"), "paper"] == 0.5
    assert paper_values("wikipedia", "acc")["DM2C"] == 0.5


def test_paper_vs_ours_in_percent_with_substituted_mark():
    from mmc_lib.studies import dm2c as S

    rows = [{"method": m, "dataset": "wikipedia", "setting": "main", "metric": k, "mean": 0.3, "std": 0.01}
            for m in S.METHOD_ORDER for k in S.METRICS]
    table = S.paper_vs_ours(rows).data
    assert table.loc["DM2C", ("acc", "paper %")] == "27.2"
    assert table.loc["DM2C", ("acc", "ours %")] == "30.0 ± 1.0ˢ"
    assert table.loc["DM2C", ("acc", "diff")] == "+2.8"


# ------------------------------------------------------------------ notebook 02's figures as calls
def test_main_and_ablation_bars_draw_the_study_numbers():
    import matplotlib.pyplot as plt
    import pandas as pd

    from mmc_lib.studies import dm2c as S

    long = pd.DataFrame({"dataset": ["wikipedia"] * 6, "method": ["DM2C"] * 4 + ["k-means"] * 2,
                         "metric": ["acc", "acc", "nmi", "nmi", "acc", "nmi"], "value": [0.4, 0.6, 0.2, 0.2, 0.3, 0.1]})
    fig = S.main_bars(long, ["wikipedia"], paper_acc={"DM2C": 0.5})
    try:
        ax = fig.axes[0]
        heights = [p.get_height() for p in ax.patches]
        assert heights == pytest.approx([0.3, 0.5, 0.1, 0.2])  # ACC bars (k-means, DM2C), then NMI bars
        assert [t.get_text() for t in ax.get_xticklabels()] == ["k-means", "DM2C"]  # the study's method order
        assert ax.collections and ax.collections[-1].get_offsets()[1][1] == pytest.approx(0.5)  # the paper's cross
    finally:
        plt.close(fig)
    rows = [{"dataset": "wikipedia", "setting": s, "metric": m, "mean": 0.1 * i, "std": 0.0}
            for i, s in enumerate(S.ABLATION_SETTINGS) for m in ("acc", "nmi")]
    fig = S.ablation_bars(rows, ["wikipedia"])
    try:
        ax = fig.axes[0]
        assert [p.get_height() for p in ax.patches][:4] == pytest.approx([0.0, 0.1, 0.2, 0.3])
        assert [t.get_text() for t in ax.get_xticklabels()] == [s.split(":")[1] for s in S.ABLATION_SETTINGS]
    finally:
        plt.close(fig)
