"""Fréchet distances between real and generated samples, with OUR feature extractors (nothing is downloaded).

FID (Heusel et al. 2017) is the Fréchet distance between two Gaussians fitted to features of real and generated
samples: ``‖μ_r - μ_g‖² + Tr(Σ_r + Σ_g - 2 (Σ_r Σ_g)^{1/2})``. The usual Inception-v3 network is replaced by

* :class:`DigitFeatures` — a small CNN digit classifier trained here on the MNIST train split (its penultimate
  layer gives the features; report its held-out accuracy beside any FID computed with it), or
* features the data already are (CUB's 1024-d GoogLeNet = Inception-v1 image features: a genuine
  Inception-feature FID in that space) — pass them to :func:`frechet_distance` directly.

:func:`fid` runs torchmetrics' ``FrechetInceptionDistance`` with the extractor as its ``feature=`` module;
:func:`frechet_distance` is the closed form on feature arrays (tested against Gaussians with known answers).

FID is biased for small samples and undefined in spirit when there are fewer samples than feature dimensions (the
covariance estimate is singular: D-MVAE's CUB FID has 600 samples in 1024 dimensions). :func:`kid` gives the Kernel
Inception Distance (Bińkowski et al. 2018) — an *unbiased* MMD² with the cubic polynomial kernel, averaged over random
subsets — through torchmetrics' ``KernelInceptionDistance`` with an identity ``feature=`` module, so it works on our
own feature arrays as :func:`frechet_distance` does (no Inception download, no torch-fidelity). :func:`generation_scores`
returns both and says which one decides: FID only on held-out samples at least as many as the feature dimensions,
KID otherwise.

>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(0, 1, (4000, 2)), rng.normal(3, 1, (4000, 2))
>>> abs(frechet_distance(a, b) - 18.0) < 0.3  # ‖μ_a - μ_b‖² = 18, equal covariances
True
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.nn import Hooks, adam, minibatches, seeded, train


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature arrays ``(n, d)``."""
    from scipy import linalg

    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need two (n, d) arrays of the same width, got {real.shape} and {fake.shape}")
    if min(len(real), len(fake)) < 2:
        raise ValueError("need at least 2 samples on each side")
    mu_r, mu_f = real.mean(0), fake.mean(0)
    cov_r, cov_f = np.atleast_2d(np.cov(real, rowvar=False)), np.atleast_2d(np.cov(fake, rowvar=False))
    with warnings.catch_warnings():  # few samples in many dimensions: a singular product is expected
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_r @ cov_f)
    return float(((mu_r - mu_f) ** 2).sum() + np.trace(cov_r + cov_f - 2.0 * np.real(root)))


class DigitFeatures(nn.Module):
    """A small CNN for 1×28×28 digits: ``features(x)`` (B, 128) for FID, ``forward(x)`` class logits (B, 10)."""

    num_features = 128  # read by torchmetrics' FID

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(64 * 7 * 7, self.num_features), nn.ReLU())
        self.head = nn.Linear(self.num_features, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x))


class _AsExtractor(nn.Module):
    """What torchmetrics calls: images in, features out (frozen, eval mode)."""

    def __init__(self, net: DigitFeatures):
        super().__init__()
        self.net, self.num_features = net.eval(), net.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x.float())


def train_digit_features(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
                         epochs: int = 3, seed: int = 0, device: str = "cpu") -> tuple[DigitFeatures, float]:
    """Train :class:`DigitFeatures` on ``(n, 1, 28, 28)`` images; return it (eval mode) and its test accuracy."""
    x, y = torch.as_tensor(x_train, device=device), torch.as_tensor(y_train, device=device)
    with seeded(seed) as gen:
        net = DigitFeatures(int(max(y_train.max(), y_test.max())) + 1).to(device)
        opt = adam(net.parameters(), lr=1e-3)

        def loss_fn(idx, epoch):
            ce = F.cross_entropy(net(x[idx]), y[idx])
            return {"ce": ce, "total": ce}

        train(loss_fn, opt, lambda: minibatches(len(x), 128, generator=gen, device=device, drop_last=True), epochs,
              module=net, hooks=Hooks())
    net.eval()
    with torch.no_grad():
        pred = net(torch.as_tensor(x_test, device=device)).argmax(1).cpu().numpy()
    return net, float((pred == np.asarray(y_test)).mean())


def cached_digit_features(path, data, *, epochs: int, seed: int = 0) -> tuple[DigitFeatures, float]:
    """:func:`train_digit_features` once, then from the file ``path`` (its weights and test accuracy); ``data()``
    returns ``(x_train, y_train, x_test, y_test)`` and is called only when the file is absent. ``path=None``: no cache."""
    from pathlib import Path

    path = Path(path) if path is not None else None
    if path is not None and path.is_file():
        saved = torch.load(path, weights_only=True)
        net = DigitFeatures()
        net.load_state_dict(saved["state"])
        return net.eval(), float(saved["test_acc"])
    net, acc = train_digit_features(*data(), epochs=epochs, seed=seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state": net.state_dict(), "test_acc": acc}, path)
    return net, acc


@torch.no_grad()
def fid(real: torch.Tensor, fake: torch.Tensor, extractor: DigitFeatures, *, batch_size: int = 500) -> float:
    """FID between two image sets with torchmetrics' ``FrechetInceptionDistance`` and OUR ``extractor``."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_AsExtractor(extractor), normalize=True)
    for images, is_real in ((real, True), (fake, False)):
        for start in range(0, len(images), batch_size):
            metric.update(torch.as_tensor(images[start:start + batch_size]).float(), real=is_real)
    return float(metric.compute())


class _Identity(nn.Module):
    """Features in, features out: lets torchmetrics' KID run on feature arrays we already have."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def kid(real: np.ndarray, fake: np.ndarray, *, subsets: int = 100, subset_size: int | None = None,
        seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance between two feature arrays ``(n, d)``: the mean and std over ``subsets`` random
    subsets of ``subset_size`` (default: the smaller sample, at most 1000) of the unbiased MMD² with the kernel
    ``(x·y / d + 1)³`` — torchmetrics' ``KernelInceptionDistance`` with an identity feature module. Deterministic for
    a fixed ``seed``; about 0 for two samples of one distribution (it can be slightly negative: it is unbiased).

    >>> rng = np.random.default_rng(0)
    >>> same = kid(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))[0]
    >>> far = kid(rng.normal(size=(300, 8)), rng.normal(2, 1, size=(300, 8)))[0]
    >>> abs(same) < 0.05 < far
    True
    """
    import warnings as _w

    from torchmetrics.image.kid import KernelInceptionDistance

    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need two (n, d) arrays of the same width, got {real.shape} and {fake.shape}")
    n = min(len(real), len(fake))
    size = subset_size or min(n, 1000)
    if not 2 <= size <= n:
        raise ValueError(f"subset_size must be in [2, {n}] (the smaller sample), got {size}")
    with _w.catch_warnings():
        _w.simplefilter("ignore", UserWarning)  # "KID saves all features in a buffer": ours are small arrays
        metric = KernelInceptionDistance(feature=_Identity(), subsets=subsets, subset_size=size)
        metric.update(torch.as_tensor(real), real=True)
        metric.update(torch.as_tensor(fake), real=False)
        with seeded(seed):
            mean, std = metric.compute()
    return float(mean), float(std)


def generation_scores(real: np.ndarray, fake: np.ndarray, *, held_out: bool, seed: int = 0) -> dict:
    """FID and KID of two feature arrays, and which one decides: FID only when ``real`` is held out (never seen in
    training) and both samples have at least as many rows as feature dimensions; KID otherwise.

    >>> rng = np.random.default_rng(0)
    >>> generation_scores(rng.normal(size=(50, 64)), rng.normal(size=(50, 64)), held_out=True)["decides"]
    'KID'
    """
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    n, d = min(len(real), len(fake)), real.shape[1]
    kid_mean, kid_std = kid(real, fake, seed=seed)
    valid = held_out and n >= d
    why = "" if valid else ("the real samples include training data" if not held_out else
                            f"{n} samples in {d} feature dimensions: the covariance is singular")
    return {"fid": frechet_distance(real, fake), "kid": kid_mean, "kid_std": kid_std, "n": n, "dims": d,
            "decides": "FID" if valid else "KID", "why": why}
