"""The shared generative pieces: the Fréchet distance, our FID feature extractor, the diffusion wrappers."""

import numpy as np
import pytest
import torch

from mmc_lib.fid import DigitFeatures, fid, frechet_distance, train_digit_features
from mmc_lib.nn.diffusion import DiffusionConfig, conditional_unet, ddim_sample, diffusion_loss


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(0)
    cov_a, cov_b = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    a = rng.multivariate_normal([0, 0], cov_a, 200_000)
    b = rng.multivariate_normal([1, 2], cov_b, 200_000)
    # ‖μ‖² = 5; Tr(Σa + Σb - 2(ΣaΣb)^½) = 10 - 2·(2 + 2) = 2
    assert frechet_distance(a, b) == pytest.approx(7.0, abs=0.1)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_rejects_mismatched_widths():
    with pytest.raises(ValueError, match="same width"):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))


def test_torchmetrics_fid_with_our_extractor_agrees_with_the_closed_form():
    torch.manual_seed(0)
    net = DigitFeatures().eval()
    real, fake = torch.rand(300, 1, 28, 28), torch.rand(300, 1, 28, 28) * 0.5
    with torch.no_grad():
        expected = frechet_distance(net.features(real).numpy(), net.features(fake).numpy())
    assert fid(real, fake, net, batch_size=128) == pytest.approx(expected, rel=1e-3)
    assert fid(real, real, net) == pytest.approx(0.0, abs=1e-3)


def test_digit_features_learn_separable_images():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 200)
    x = rng.random((400, 1, 28, 28)).astype(np.float32) * 0.2
    x[y == 1, :, :14] += 0.8  # class 1: bright top half
    net, acc = train_digit_features(x[::2], y[::2], x[1::2], y[1::2], epochs=2, seed=0)
    assert acc > 0.95


def test_diffusion_training_reduces_the_loss_and_sampling_is_seeded():
    torch.manual_seed(0)
    cfg = DiffusionConfig(train_steps=100, sample_steps=10)
    unet = conditional_unet(1, sample_size=8, channels=(8, 16), image_cond=True)
    x0 = torch.zeros(32, 1, 8, 8)
    x0[:, :, 2:6, 2:6] = 1.0
    opt = torch.optim.Adam(unet.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(60):
        loss = diffusion_loss(unet, x0, cfg, generator=g, image_cond=x0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    a = ddim_sample(unet, (2, 1, 8, 8), cfg, generator=torch.Generator().manual_seed(1), image_cond=x0[:2])
    b = ddim_sample(unet, (2, 1, 8, 8), cfg, generator=torch.Generator().manual_seed(1), image_cond=x0[:2])
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="image condition"):
        unet(x0, torch.zeros(32, dtype=torch.long))
