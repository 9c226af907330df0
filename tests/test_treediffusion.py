"""The cluster-conditioned DDPM of TreeDiffusion, the path condition and notebook 05's study helpers."""

import numpy as np
import pytest
import torch

from mmc_lib.methods.generative.treediffusion import TreeDiffusion, TreeDiffusionConfig
from mmc_lib.methods.generative.treevae import TreeVAE, TreeVAEConfig
from mmc_lib.nn.diffusion import DiffusionConfig
from mmc_lib.studies import treediffusion as study
from mmc_lib.studies.budgets import budget

TREE = TreeVAEConfig(epochs=1, split_epochs=1, finetune_epochs=1, final_epochs=1, batch_size=16, router_steps=5)
DDPM = TreeDiffusionConfig(channels=(8, 16), steps=4, batch_size=8, log_every=2, lr_warmup=2,
                           diffusion=DiffusionConfig(train_steps=50, sample_steps=2))


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x = (rng.random((40, 1, 28, 28)) < 0.2).astype(np.float32)
    tree = TreeVAE(3, max_depth=2, config=TREE).fit(x)
    return x, tree, TreeDiffusion(tree, seed=1, config=DDPM).fit(x)


def test_fit_sample_shapes_and_range(fitted):
    _, tree, model = fitted
    out = model.sample(5, seed=0)
    assert out["images"].shape == out["vae_images"].shape == (5, 1, 28, 28)
    assert out["images"].min() >= 0 and out["images"].max() <= 1
    assert [r["step"] for r in model.history_] == [2, 4]
    assert np.array_equal(model.labels_, tree.labels_)  # stage 2 keeps the clusters of stage 1
    forced = model.sample(3, seed=0, leaf_index=0)
    assert (forced["leaf_index"] == 0).all()


def test_same_seed_same_samples(fitted):
    x, tree, model = fitted
    again = TreeDiffusion(tree, seed=1, config=DDPM).fit(x)
    assert np.allclose(model.sample(3, seed=2)["images"], again.sample(3, seed=2)["images"], atol=1e-6)


def test_path_condition_is_a_sum_of_per_depth_projections(fitted):
    x, tree, model = fitted
    leaf = tree.predict(x)
    slots = torch.as_tensor(tree.path_latents(x, leaf))  # (n, (depth + 1) · L)
    W = model.unet_.project.weight.detach()  # (time_dim, (depth + 1) · L)
    L = TREE.latent_dim
    summed = sum(slots[:, d * L:(d + 1) * L] @ W[:, d * L:(d + 1) * L].T for d in range(slots.shape[1] // L))
    assert torch.allclose(slots @ W.T, summed, atol=1e-5)
    assert (slots[:, 0:L] != 0).any()  # the root slot is always filled


def test_bad_input(fitted):
    x, tree, _ = fitted
    with pytest.raises(ValueError, match="fitted TreeVAE"):
        TreeDiffusion(TreeVAE(2, max_depth=1)).fit(x)
    with pytest.raises(ValueError, match="1 channel"):
        TreeDiffusion(tree, config=DDPM).fit(np.zeros((4, 3, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match="n must be"):
        fitted[2].sample(0)


def test_budgets_and_layout():
    full, smoke = budget("05_treediffusion", "full"), budget("05_treediffusion", "smoke")
    assert full.seeds(0) == (0, 1) and full.n_clusters == 10 and full.max_train is None
    assert smoke.diffusion.steps < full.diffusion.steps
    pos, edges = study.tree_layout({"id": 0, "depth": 0, "n": 3, "children": [
        {"id": 1, "depth": 1, "n": 1, "children": [], "cluster": 0},
        {"id": 2, "depth": 1, "n": 2, "children": [
            {"id": 3, "depth": 2, "n": 1, "children": [], "cluster": 1},
            {"id": 4, "depth": 2, "n": 1, "children": [], "cluster": 2}]}]})
    assert pos[0][0] == pytest.approx(0.75) and pos[2][0] == pytest.approx(1.5) and len(edges) == 4
    with pytest.raises(ValueError, match="unknown baseline"):
        study.baseline_run("dbscan", 0, "smoke", None)


def test_warmup_ema_and_curve(fitted):
    """The learning rate ramps up, sampling uses the EMA weights (which lag the live ones), and the curve's
    evaluations neither change the training nor are skipped at the last step."""
    x, tree, model = fitted
    assert [r["lr"] for r in model.history_] == pytest.approx([DDPM.lr, DDPM.lr])  # warm-up over after 2 steps
    live, avg = model.unet_.state_dict(), model.ema_.module.state_dict()
    assert model.sampler_ is model.ema_.module
    assert any(not torch.equal(live[k], avg[k]) for k in live)
    cfg = TreeDiffusionConfig(**{**DDPM.__dict__, "eval_every": 3})
    calls = []
    watched = TreeDiffusion(tree, seed=1, config=cfg).fit(
        x, evaluate=lambda m, step: calls.append(step) or {"mean": float(m.sample(2, seed=0)["images"].mean())})
    assert calls == [3, 4] and [c["step"] for c in watched.curve_] == [3, 4]
    assert watched.curve_[-1]["seconds"] > 0
    plain = TreeDiffusion(tree, seed=1, config=cfg).fit(x)
    assert all(torch.equal(a, b) for a, b in zip(watched.unet_.parameters(), plain.unet_.parameters()))
    no_ema = TreeDiffusion(tree, seed=1, config=TreeDiffusionConfig(**{**DDPM.__dict__, "ema_decay": None})).fit(x)
    assert no_ema.ema_ is None and no_ema.sampler_ is no_ema.unet_


def test_config_errors_name_the_field():
    from mmc_lib.nn.diffusion import EMA, conditional_unet

    with pytest.raises(ValueError, match="TreeDiffusionConfig.steps"):
        TreeDiffusionConfig(steps=0)
    with pytest.raises(ValueError, match="EMA decay"):
        EMA(torch.nn.Linear(1, 1), 1.0)
    with pytest.raises(ValueError, match="cannot be halved"):  # 28 → 14 → 7 → 3.5
        conditional_unet(1, sample_size=28, channels=(8, 8, 8, 8))


def test_curve_flattened_rule():
    """Flat = FID fell by less than 10 % over the last third of the steps (the point nearest 2/3 vs the last)."""
    def curve(fids):
        return [{"step": 100 * (i + 1), "fid": f} for i, f in enumerate(fids)]

    assert study.curve_flattened(curve([200, 100, 60, 57, 55]))  # 60 → 55 over steps 300 → 500: −8 %
    assert not study.curve_flattened(curve([200, 100, 60, 50, 40]))  # still falling: −33 %
    assert not study.curve_flattened(curve([200, 100]))  # too few points to tell
    assert study.curve_flattened(curve([200, 100, 60, 65, 70]))  # rising again counts as flat (no gain left)


def test_image_scores_on_held_out_digits():
    """FID/KID against held-out features: two halves of one set are close, pure noise is far and unrecognised."""
    from mmc_lib.fid import DigitFeatures

    torch.manual_seed(0)
    net = DigitFeatures().eval()
    rng = np.random.default_rng(0)
    a = (rng.random((200, 1, 28, 28)) < 0.1).astype(np.float32)
    real = study.features(net, a[:100])
    same = study.image_scores(net, real, a[100:])
    noise = study.image_scores(net, real, rng.random((100, 1, 28, 28)).astype(np.float32))
    assert same["kid"] < noise["kid"] and same["fid"] < noise["fid"]
    assert (same["n_real"], same["n_fake"], same["dims"], same["decides"]) == (100, 100, 128, "KID")
    assert 0.0 <= noise["recognised"] <= 1.0
