"""EAMC: blobs, determinism, bad input, its loss terms and the one-side-per-step alternation."""

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.eamc import EAMC, EAMCConfig, EAMCNet, attention_kernel_loss, ddc2_flipped
from mmc_lib.metrics import accuracy

FAST = dict(hidden=(32, 32), epochs=60, batch_size=40, lr_encoders=1e-3, lr_head=1e-3)  # small nets learn fast
TINY = dict(hidden=(16,), attention_hidden=(8,), disc_hidden=(8,), epochs=3, batch_size=40)


def blobs(n_per=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    return [(centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32),
            (centres[y][:, ::-1] + rng.normal(0, .3, (len(y), 5))).astype(np.float32)], y


def test_clusters_separable_views():
    views, y = blobs()
    assert accuracy(y, EAMC(3, **FAST).fit_predict(views)) >= 0.9


def test_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = EAMC(3, seed=4, **TINY).fit_predict(views)
    assert torch.equal(torch.rand(1), before)
    assert np.array_equal(a, EAMC(3, seed=4, **TINY).fit_predict(views))


def test_rejections():
    views, _ = blobs()
    with pytest.raises(ValueError, match="different sample counts"):
        EAMC(3, **TINY).fit([views[0], views[1][:10]])
    with pytest.raises(ValueError, match="NaN"):
        EAMC(3, **TINY).fit([np.full_like(views[0], np.nan), views[1]])
    with pytest.raises(ValueError, match="at least 2"):
        EAMC(1, **TINY).fit(views)
    with pytest.raises(ValueError, match="at least 2 view"):
        EAMC(3, **TINY).fit(views[:1])
    with pytest.raises(ValueError, match="epochs"):
        EAMCConfig(epochs=0)


def test_ddc2_flipped_hand_case():
    a = torch.tensor([[1., 0., 0.], [.5, .5, 0.], [0., 0., 1.]])
    # columns c0=(1,.5,0), c1=(0,.5,0), c2=(0,0,1): c0·c1 = .25, c0·c2 = c1·c2 = 0; 2/(3·2) · .25
    assert float(ddc2_flipped(a)) == pytest.approx(0.25 / 3)


def test_attention_loss_zero_when_fused_kernel_is_the_weighted_one_positive_otherwise():
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    w = torch.tensor([.5, .5])
    assert float(attention_kernel_loss(z, [z, z], w)) == pytest.approx(0.0, abs=1e-10)
    other = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    assert float(attention_kernel_loss(z, [z, other], w)) > 0


def test_each_step_moves_one_side_only():
    views, _ = blobs()
    x = [torch.as_tensor(v[:40]) for v in views]
    net = EAMCNet([5, 5], 3, EAMCConfig(**TINY))
    gen = net.generator_losses(x)["total"]
    gen.backward()
    assert all(p.grad is None for p in net.discriminators.parameters())  # the generator step sees D as constants
    assert any(p.grad is not None for p in net.encoders.parameters())
    net.zero_grad(set_to_none=True)
    net.discriminator_losses(x)["total"].backward()
    assert all(p.grad is None for p in net.encoders.parameters())  # the discriminator step sees z as constants
    assert all(p.grad is not None for p in net.discriminators.parameters())


def test_history_logs_both_players():
    views, y = blobs()
    last = EAMC(3, **TINY).fit(views, y).history_[-1]
    assert {"ddc1", "ddc2_flipped", "ddc3", "att", "gen", "disc", "objective", "acc"} <= set(last)
