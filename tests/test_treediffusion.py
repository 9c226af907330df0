"""The cluster-conditioned DDPM of TreeDiffusion, the path condition and notebook 05's study helpers."""

import numpy as np
import pytest
import torch

from mmc_lib.methods.treediffusion import TreeDiffusion, TreeDiffusionConfig
from mmc_lib.methods.treevae import TreeVAE, TreeVAEConfig
from mmc_lib.nn.diffusion import DiffusionConfig
from mmc_lib.studies import treediffusion as study
from mmc_lib.studies.budgets import budget

TREE = TreeVAEConfig(epochs=1, split_epochs=1, finetune_epochs=1, final_epochs=1, batch_size=16, router_steps=5)
DDPM = TreeDiffusionConfig(channels=(8, 16), steps=4, batch_size=8, log_every=2,
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
    assert full.seeds(0) == (0, 1, 2) and full.n_clusters == 10 and full.max_train is None
    assert smoke.diffusion.steps < full.diffusion.steps
    pos, edges = study.tree_layout({"id": 0, "depth": 0, "n": 3, "children": [
        {"id": 1, "depth": 1, "n": 1, "children": [], "cluster": 0},
        {"id": 2, "depth": 1, "n": 2, "children": [
            {"id": 3, "depth": 2, "n": 1, "children": [], "cluster": 1},
            {"id": 4, "depth": 2, "n": 1, "children": [], "cluster": 2}]}]})
    assert pos[0][0] == pytest.approx(0.75) and pos[2][0] == pytest.approx(1.5) and len(edges) == 4
    with pytest.raises(ValueError, match="unknown baseline"):
        study.baseline_run("dbscan", 0, "smoke", None)
