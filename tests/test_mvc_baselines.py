"""SiMVC and CoMVC on the shared encoders and DDC head."""

import numpy as np
import pytest

from mmc_lib.metrics import accuracy
from mmc_lib.methods import CoMVC, MVCConfig, SiMVC

FAST = MVCConfig(hidden=(32,), latent_dim=8, epochs=30, batch_size=32, n_restarts=1)  # enough steps to converge
TINY = MVCConfig(hidden=(32,), latent_dim=8, epochs=4, batch_size=64, n_restarts=1)  # bookkeeping only


def blobs(n_per=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    return [(centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32),
            (centres[y][:, ::-1] + rng.normal(0, .3, (len(y), 5))).astype(np.float32)], y


@pytest.mark.parametrize("cls", [SiMVC, CoMVC])
def test_clusters_separable_views(cls):
    views, y = blobs()
    assert accuracy(y, cls(3, config=FAST).fit_predict(views)) >= 0.9


@pytest.mark.parametrize("cls", [SiMVC, CoMVC])
def test_deterministic(cls):
    views, _ = blobs()
    assert np.array_equal(cls(3, config=TINY, seed=2).fit_predict(views), cls(3, config=TINY, seed=2).fit_predict(views))


def test_comvc_adds_weighted_contrastive_term_simvc_does_not():
    views, _ = blobs()
    si, co = SiMVC(3, config=TINY).fit(views), CoMVC(3, config=TINY).fit(views)
    assert "contrast" not in si.history_[-1] and "contrast" in co.history_[-1]
    last = co.history_[-1]
    ddc = last["ddc1"] + last["ddc2"] + last["ddc3"]
    assert ddc < last["total"] < ddc + last["contrast"]  # weight = smallest fusion weight, in (0, 1)


def test_fused_embedding_and_rejections():
    views, _ = blobs()
    model = SiMVC(3, config=TINY).fit(views)
    assert model.embedding_.shape == (120, 8)
    with pytest.raises(ValueError, match="different sample counts"):
        SiMVC(3, config=TINY).fit([views[0], views[1][:10]])
    with pytest.raises(ValueError, match="at least 2"):
        CoMVC(1, config=TINY).fit(views)
