"""CNN encoders for image views (MVCConfig(encoder="cnn")): shapes, the non-square error, a tiny fit, determinism."""

import numpy as np
import pytest
import torch

from mmc_lib.methods import CoMVC, MVCConfig, SiMVC
from mmc_lib.methods.deep_multiview.ddmc import DDMC
from mmc_lib.methods.deep_multiview.mvc import ConvEncoder, ViewEncoder, comvc_contrastive_loss
from mmc_lib.metrics import accuracy

TINY_CNN = MVCConfig(encoder="cnn", cnn_padding="same", cnn_channels=4, latent_dim=4, ddc_hidden=16, epochs=2,
                     batch_size=32, n_restarts=1)


def images(n_per=40, side=8, seed=0):
    """Two classes of 8×8 images, two views: class 0 lights the left half, class 1 the top half (noisy)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per)
    left, top = np.zeros((side, side)), np.zeros((side, side))
    left[:, : side // 2], top[: side // 2] = 1, 1
    protos = np.stack([left, top]).reshape(2, -1)
    views = [(protos[y] + rng.normal(0, 0.3, (len(y), side * side))).astype(np.float32) for _ in range(2)]
    views[1] = views[1][:, ::-1].copy()  # the second view sees the image mirrored
    return views, y


def test_reference_cnn_shapes_on_28x28():
    enc = ConvEncoder(28)
    assert enc.out_dim == 288  # 32 channels × 3 × 3, as the reference code's flattened backbone output
    assert enc(torch.rand(5, 784)).shape == (5, 288)
    z, mu, logvar = ViewEncoder(784, MVCConfig(encoder="cnn", latent_dim=7), variational=True)(torch.rand(5, 784))
    assert z.shape == mu.shape == logvar.shape == (5, 7)
    assert ViewEncoder(784, MVCConfig(encoder="cnn")).out_dim == 288


def test_same_padding_and_bf16_shapes():
    assert ConvEncoder(8, channels=4, padding="same").out_dim == 4 * 2 * 2
    out = ConvEncoder(28, channels=4, bf16=True)(torch.rand(3, 784))
    assert out.shape == (3, 36) and out.dtype == torch.float32
    with pytest.raises(ValueError, match="too small"):
        ConvEncoder(8)


@pytest.mark.parametrize("cls", [SiMVC, CoMVC, DDMC])
def test_non_square_view_rejected_before_training(cls):
    views, _ = images()
    bad = [views[0], np.hstack([views[1], views[1][:, :1]])]  # 65 columns
    with pytest.raises(ValueError, match="view 1 has width 65"):
        cls(2, config=TINY_CNN).fit(bad)


def test_unknown_encoder_rejected():
    with pytest.raises(ValueError, match="unknown encoder 'resnet'"):
        MVCConfig(encoder="resnet")


def test_tiny_comvc_cnn_separates_two_image_classes():
    views, y = images()
    cfg = MVCConfig(encoder="cnn", cnn_padding="same", cnn_channels=8, ddc_hidden=32, epochs=15, batch_size=40,
                    n_restarts=1)
    assert accuracy(y, CoMVC(2, config=cfg).fit_predict(views)) >= 0.9


@pytest.mark.parametrize("cls", [SiMVC, CoMVC, DDMC])
def test_cnn_fit_is_deterministic_and_keeps_global_rng(cls):
    views, _ = images(n_per=20)
    before = torch.random.get_rng_state()
    a = cls(2, config=TINY_CNN, seed=3).fit(views).embedding_
    b = cls(2, config=TINY_CNN, seed=3).fit(views).embedding_
    assert np.array_equal(a, b)
    assert torch.equal(before, torch.random.get_rng_state())


def test_comvc_contrastive_loss_prefers_aligned_views_and_samples_other_clusters():
    torch.manual_seed(0)
    z = torch.eye(6)
    pred = torch.tensor([0, 0, 1, 1, 2, 2])
    aligned = comvc_contrastive_loss([z, z], pred)
    shuffled = comvc_contrastive_loss([z, z.roll(1, 0)], pred)
    assert aligned < shuffled
    # perfectly aligned one-hot rows: the positive scores 1/τ, every sampled negative (other cluster) 0
    expected = -torch.log(torch.exp(torch.tensor(10.0)) / (torch.exp(torch.tensor(10.0)) + 3))
    assert torch.isclose(aligned, expected, atol=1e-5)


def test_history_logs_acc_every_eval_every_epochs():
    views, y = images(n_per=20)
    model = SiMVC(2, config=MVCConfig(encoder="cnn", cnn_padding="same", cnn_channels=4, epochs=5, batch_size=20,
                                      n_restarts=1, eval_every=2)).fit(views, y)
    assert [r["epoch"] for r in model.history_ if "acc" in r] == [2, 4, 5]
