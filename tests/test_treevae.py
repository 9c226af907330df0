"""TreeVAE, the flat VAE baseline and the hierarchical metrics (dendrogram purity, leaf purity)."""

import itertools

import numpy as np
import pytest

from mmc_lib.methods.generative.treevae import TreeVAE, TreeVAEConfig, VAEConfig, VAEKMeans, check_tree_size, tree_text
from mmc_lib.metrics import dendrogram_purity, leaf_purity

TINY = TreeVAEConfig(epochs=1, split_epochs=1, finetune_epochs=1, final_epochs=1, batch_size=16, router_steps=5)


@pytest.fixture(scope="module")
def blobs():
    """48 binary 28×28 images of three kinds (bars in different places), with their kind."""
    rng = np.random.default_rng(0)
    x = (rng.random((48, 1, 28, 28)) < 0.05).astype(np.float32)
    y = np.repeat([0, 1, 2], 16)
    for k in range(3):
        x[y == k, 0, 8 * k:8 * k + 6, :] = 1.0
    return x, y


# ----------------------------------------------------------------- metrics on hand-computed trees

def test_dendrogram_purity_hand_computed_three_leaves():
    # root 0 → inner 1 (leaves 3, 4) and leaf 2; see the docstring for the sums: (1 + 1.5 + 1 + 1) / 6
    assert dendrogram_purity([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2], [(0, 1, 3), (0, 1, 4), (0, 2)]) == pytest.approx(0.75)


def test_dendrogram_purity_hand_computed_deeper_tree():
    # root 0 → (1 → leaves 3, 4), (2 → leaves 5, 6). Leaves: 3 = [a, a], 4 = [a, b], 5 = [b, b], 6 = [c].
    # class a pairs: 1 in leaf 3 (purity 1); 2 across 3/4 meet at node 1 (3 of 4 are a: .75 each)
    # class b pairs: 1 in leaf 5 (1); 2 across 4/5 meet at the root (3 of 7 are b: 3/7 each)
    # class c: no pair.  total pairs = 3 + 3 = 6
    y = [0, 0, 0, 1, 1, 1, 2]  # a, a, a, b, b, b, c
    leaves = [0, 0, 1, 1, 2, 2, 3]
    paths = [(0, 1, 3), (0, 1, 4), (0, 2, 5), (0, 2, 6)]
    expected = (1 + 2 * 0.75 + 1 + 2 * 3 / 7) / 6
    assert dendrogram_purity(y, leaves, paths) == pytest.approx(expected)


def test_dendrogram_purity_brute_force_agrees():
    rng = np.random.default_rng(1)
    paths = [(0, 1, 3), (0, 1, 4), (0, 2, 5), (0, 2, 6), (0, 7)]
    y, leaves = rng.integers(0, 3, 40), rng.integers(0, 5, 40)
    total, n = 0.0, 0
    for i, j in itertools.combinations(range(40), 2):
        if y[i] != y[j]:
            continue
        pi, pj = paths[leaves[i]], paths[leaves[j]]
        lca = [a for a, b in zip(pi, pj) if a == b][-1]
        below = [k for k in range(40) if lca in paths[leaves[k]]]
        total += np.mean(y[below] == y[i])
        n += 1
    assert dendrogram_purity(y, leaves, paths) == pytest.approx(total / n)


def test_dendrogram_purity_properties():
    y = np.array([0, 0, 1, 1, 2, 2])
    paths = [(0, 1, 3), (0, 1, 4), (0, 2)]
    assert dendrogram_purity(y, [0, 0, 1, 1, 2, 2], paths) == pytest.approx(1.0)  # each class its own leaf
    # relabelling the classes changes nothing; renaming the nodes changes nothing
    assert dendrogram_purity(2 - y, [0, 0, 1, 1, 2, 2], paths) == pytest.approx(1.0)
    value = dendrogram_purity(y, [0, 1, 1, 2, 2, 0], paths)
    renamed = [(10, 11, 13), (10, 11, 14), (10, 12)]
    assert dendrogram_purity(y, [0, 1, 1, 2, 2, 0], renamed) == pytest.approx(value)
    assert 0 < value <= 1


def test_dendrogram_purity_rejects_bad_input():
    with pytest.raises(ValueError, match="index leaf_paths"):
        dendrogram_purity([0, 0, 1], [0, 1, 5], [(0, 1), (0, 2)])
    with pytest.raises(ValueError, match="same root"):
        dendrogram_purity([0, 0, 1], [0, 1, 1], [(0, 1), (9, 2)])
    with pytest.raises(ValueError):
        dendrogram_purity([0, np.nan, 1], [0, 1, 1], [(0, 1), (0, 2)])


def test_leaf_purity_hand_computed():
    assert leaf_purity([0, 0, 1, 1, 1], [0, 0, 0, 1, 1]) == pytest.approx(0.8)  # (2 + 2) / 5
    assert leaf_purity([0, 1, 2], [5, 5, 5]) == pytest.approx(1 / 3)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("images, message", [
    (np.zeros((10, 784), dtype=np.float32), "shape \\(n, 1, H, W\\)"),
    (np.zeros((10, 3, 28, 28), dtype=np.float32), "1 channel"),
    (np.full((10, 1, 28, 28), np.nan, dtype=np.float32), "NaN"),
    (np.full((10, 1, 28, 28), 255.0, dtype=np.float32), "\\[0, 1\\]"),
    (np.array([["a"]] * 4), "numeric"),
])
def test_bad_images_are_named(images, message):
    with pytest.raises(ValueError, match=message):
        TreeVAE(2, max_depth=2, config=TINY).fit(images)


@pytest.mark.parametrize("n_clusters, max_depth, message", [
    (1, 3, "n_clusters must be an integer >= 2"),
    (10, 3, "allows at most 8 leaves"),
    (4, 0, "max_depth must be an integer >= 1"),
])
def test_bad_tree_size(n_clusters, max_depth, message):
    with pytest.raises(ValueError, match=message):
        check_tree_size(n_clusters, max_depth)
    with pytest.raises(ValueError, match=message):
        TreeVAE(n_clusters, max_depth=max_depth).fit(np.zeros((4, 1, 28, 28), dtype=np.float32))


# ----------------------------------------------------------------- fitting

def test_treevae_fit_and_structure(blobs):
    x, _ = blobs
    model = TreeVAE(3, max_depth=2, config=TINY).fit(x)
    assert model.labels_.shape == (48,) and 2 <= model.n_leaves_ <= 3
    assert model.tree_["n"] == 48 and model.tree_["id"] == 0
    assert all(path[0] == 0 for path in model.leaf_paths_) and len(model.leaf_paths_) == model.n_leaves_
    probs = model.leaf_probabilities(x)
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    assert {r["phase"] for r in model.history_} >= {"root", "final"}
    assert all(np.isfinite(r["total"]) for r in model.history_)
    assert "cluster 0" in tree_text(model.tree_)
    recon = model.reconstruct(x[:5])
    assert recon.shape == (5, 1, 28, 28) and 0 <= recon.min() and recon.max() <= 1
    assert model.root_latent(x).shape == (48, TINY.latent_dim)


def test_treevae_same_seed_same_numbers(blobs):
    x, _ = blobs
    a = TreeVAE(3, max_depth=2, seed=3, config=TINY).fit(x)
    b = TreeVAE(3, max_depth=2, seed=3, config=TINY).fit(x)
    assert np.array_equal(a.labels_, b.labels_)
    assert a.history_[-1]["total"] == pytest.approx(b.history_[-1]["total"])


def test_treevae_sampling(blobs):
    x, _ = blobs
    model = TreeVAE(3, max_depth=2, config=TINY).fit(x)
    s = model.sample(7, seed=1)
    assert s["images"].shape == (7, 1, 28, 28) and s["path"].shape == (7, 3 * TINY.latent_dim)
    forced = model.sample(4, seed=1, leaf_index=1)
    assert (forced["leaf_index"] == 1).all()
    with pytest.raises(ValueError, match="leaf_index"):
        model.sample(2, leaf_index=99)


def test_vae_kmeans_baseline(blobs):
    x, _ = blobs
    labels = VAEKMeans(3, config=VAEConfig(epochs=2, batch_size=16, kmeans_n_init=2)).fit_predict(x)
    assert labels.shape == (48,) and set(labels) <= {0, 1, 2}
    with pytest.raises(ValueError, match="n_clusters"):
        VAEKMeans(1).fit(x)
