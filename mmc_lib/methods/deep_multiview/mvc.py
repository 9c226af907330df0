"""SiMVC and CoMVC (Trosten, Løkse, Jenssen & Kampffmeyer, "Reconsidering representation alignment for
multi-view clustering", CVPR 2021), and the parts they share with DDMC.

* SiMVC: per-view encoders → weighted mean ``Σ_v softmax(w)_v z^v`` (learned weights) → DDC head; ``L_DDC``.
* CoMVC: SiMVC + a contrastive alignment of every pair of views (τ = 0.1), weighted by δ = 0.1 times the
  smallest fusion weight (the paper's adaptive weight, eq. 9, detached as in the reference code) with
  negatives sampled among the rows predicted in other clusters (its negative sampling, Sec. 3.2).

Shared with DDMC:

* :class:`MVCConfig` — encoder sizes, the DDC head and the schedule;
* :class:`ViewEncoder` — one MLP (or, ``encoder="cnn"``, one :class:`ConvEncoder` for a square image) per
  modality, deterministic or variational (mean and log-variance);

The fit itself — validation, seeding, runs (restarts) and the label-free choice among them
(``MVCConfig(selection="objective")``, default: the lowest final training objective, last epoch; ``"ddc1"``: the
paper's protocol, each run checkpointed at its lowest eval ``ddc_1`` and the run with the lowest ``ddc_1`` kept, with
``n_restarts`` the paper's ``n_runs``) — is :class:`mmc_lib.methods.base.DeepEstimator`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import permutations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.losses.ddc import ddc_loss
from mmc_lib.methods.base import SELECTIONS, DeepEstimator
from mmc_lib.nn import DDCHead, TrainerConfig, mlp
from mmc_lib.nn.optim import check_impl
from mmc_lib.validation import check_config


ENCODERS = ("mlp", "cnn")


@dataclass(frozen=True)
class MVCConfig:
    """Networks and schedule shared by DDMC, SiMVC and CoMVC (same encoders, same DDC head)."""

    hidden: tuple[int, ...] = (256, 128)  # encoder hidden widths (Linear→BatchNorm→ReLU), per modality
    latent_dim: int = 64  # width of each modality's representation Z^m
    ddc_hidden: int = 100  # DDC head hidden units (Kampffmeyer et al. 2019)
    rel_sigma: float = 0.15  # DDC kernel: σ² = rel_sigma · median squared distance
    temperature: float = 0.5  # NT-Xent temperature (DDMC's L2; CoMVC uses 0.1, set in CoMVC)
    epochs: int = 100  # Adam epochs
    batch_size: int = 256  # mini-batch rows
    lr: float = 1e-3  # Adam learning rate
    n_restarts: int = 3  # runs per seed (the paper's n_runs); which one is kept: ``selection``
    encoder: str = "mlp"  # "mlp", or "cnn" for views that are flattened square grey images (784 → 1×28×28)
    cnn_channels: int = 32  # CNN: channels of each of the four conv layers (the reference code's 32)
    cnn_padding: str = "valid"  # CNN: "valid" as the reference code (images ≥ 18 px), "same" for small images
    cnn_bf16: bool = False  # CNN: convolutions in bfloat16 autocast (CPU speed-up; head and losses stay float32)
    eval_every: int = 1  # with y given to fit: log ACC/NMI every this many epochs (and at the last one)
    n_threads: int = 1  # CPU threads for a fit; 1 makes a fixed seed give the same numbers on any machine
    optimizer_impl: str | None = None  # torch's Adam: "foreach" | "fused" | "single"; None = "foreach" (mmc_lib.nn.optim)
    #: "objective": the run with the lowest final training objective, last epoch; "ddc1": the paper's selection, each
    #: run checkpointed at its lowest eval ddc_1 (every ``checkpoint_every`` epochs and the last), the lowest kept
    selection: str = "objective"
    checkpoint_every: int = 4  # selection="ddc1": epochs between checks (the reference code's eval_interval)

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "ddc_hidden": 1, "epochs": 1, "batch_size": 2, "n_restarts": 1,
                                     "cnn_channels": 1, "eval_every": 1, "n_threads": 1, "checkpoint_every": 1})
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown selection {self.selection!r}; known: {SELECTIONS}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}; known: {ENCODERS}")
        if self.cnn_padding not in ("valid", "same"):
            raise ValueError(f"unknown cnn_padding {self.cnn_padding!r}; known: 'valid', 'same'")
        if self.optimizer_impl is not None:
            check_impl(self.optimizer_impl)

    def trainer(self) -> TrainerConfig:
        return TrainerConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                             optimizer_impl=self.optimizer_impl)


def image_side(width: int, view: int | str = "?") -> int:
    """Side ``s`` of a flattened square grey image of ``width = s²`` pixels; ``ValueError`` naming the view otherwise.

    >>> image_side(784)
    28
    """
    side = math.isqrt(int(width))
    if side * side != width:
        raise ValueError(f"encoder='cnn' needs square grey images: view {view} has width {width}, "
                         f"which is not a perfect square (use encoder='mlp' for this view set)")
    return side


class ConvEncoder(nn.Module):
    """The CNN backbone of the reference SiMVC/CoMVC code (DanielTrosten/mvc, ``config.defaults.CNN``) on a
    flattened ``s × s`` grey image: ``[conv5×5 → ReLU → conv5×5 → BN → ReLU → maxpool 2] → [conv3×3 → ReLU →
    conv3×3 → BN → ReLU → maxpool 2] → flatten`` with 32 channels (28×28 → 32×3×3 = 288 features, unpadded
    convolutions). ``out_dim`` given: a final ``Linear`` to that width (used by variational encoders; the reference
    code has none). He-normal initial weights as the reference code (``helpers.he_init_weights``).

    >>> import torch
    >>> enc = ConvEncoder(28)
    >>> enc.out_dim, tuple(enc(torch.rand(2, 784)).shape)
    (288, (2, 288))
    """

    def __init__(self, side: int, *, channels: int = 32, padding: str = "valid", out_dim: int | None = None,
                 bf16: bool = False):
        super().__init__()
        self.side, self.bf16 = side, bf16
        c, pad = channels, padding == "same"

        def conv(c_in: int, k: int) -> nn.Conv2d:
            return nn.Conv2d(c_in, c, k, padding=k // 2 if pad else 0)

        self.features = nn.Sequential(
            conv(1, 5), nn.ReLU(), conv(c, 5), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2),
            conv(c, 3), nn.ReLU(), conv(c, 3), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        after = self._output_side(side, pad)
        if after < 1:
            raise ValueError(f"a {side}×{side} image is too small for the unpadded CNN (needs ≥ 18 px); "
                             f"use cnn_padding='same'")
        flat = c * after * after
        self.dense = nn.Identity() if out_dim is None else nn.Linear(flat, out_dim)
        self.out_dim = flat if out_dim is None else out_dim
        he_init(self)

    @staticmethod
    def _output_side(side: int, same: bool) -> int:
        if same:
            return side // 2 // 2
        return ((side - 8) // 2 - 4) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels_last: oneDNN's fast convolution layout on CPU (the weights are converted in ViewEncoder)
        img = x.view(-1, 1, self.side, self.side).contiguous(memory_format=torch.channels_last)  # (B, 1, s, s)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            h = self.dense(self.features(img))  # (B, out_dim)
        return h.float()


class ViewEncoder(nn.Module):
    """``x (B, d) → z (B, out_dim)``; variational encoders also return ``(mu, logvar)`` and sample ``z`` in training.

    ``config.encoder == "mlp"``: ``d → hidden… → latent`` (Linear→BatchNorm→ReLU), ``out_dim = latent_dim``.
    ``"cnn"``: :class:`ConvEncoder` on the view as an ``√d × √d`` image; deterministic encoders output the flattened
    feature map as the reference code (``out_dim = 288`` for 28×28), variational ones a dense ``2·latent`` layer
    (``out_dim = latent_dim``).

    >>> import torch
    >>> enc = ViewEncoder(5, MVCConfig(hidden=(8,), latent_dim=3), variational=True)
    >>> z, mu, logvar = enc(torch.randn(4, 5))
    >>> tuple(z.shape), tuple(logvar.shape)
    ((4, 3), (4, 3))
    >>> ViewEncoder(784, MVCConfig(encoder="cnn", latent_dim=3), variational=True)(torch.rand(4, 784))[0].shape
    torch.Size([4, 3])
    """

    def __init__(self, d_in: int, config: MVCConfig, *, variational: bool = False):
        super().__init__()
        self.variational = variational
        out = 2 * config.latent_dim if variational else config.latent_dim
        if getattr(config, "encoder", "mlp") == "cnn":  # subclasses with their own config (EAMC) have no CNN
            self.net = ConvEncoder(image_side(d_in), channels=config.cnn_channels, padding=config.cnn_padding,
                                   out_dim=out if variational else None, bf16=config.cnn_bf16)
            self.net.to(memory_format=torch.channels_last)
            self.out_dim = config.latent_dim if variational else self.net.out_dim
        else:
            self.net = mlp([d_in, *config.hidden, out], batchnorm=True)
            self.out_dim = config.latent_dim

    def forward(self, x: torch.Tensor):
        h = self.net(x)  # (B, out_dim) or (B, 2·latent)
        if not self.variational:
            return h, h, None
        mu, logvar = h.chunk(2, dim=1)
        logvar = logvar.clamp(-8.0, 8.0)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu  # reparameterisation
        return z, mu, logvar


def check_image_views(views: list[np.ndarray], config) -> None:
    """With ``config.encoder == "cnn"``, every view must be a flattened square grey image (``ValueError`` naming it)."""
    if getattr(config, "encoder", "mlp") == "cnn":
        for m, v in enumerate(views):
            image_side(v.shape[1], view=m)


# ---------------------------------------------------------------------------------------------- SiMVC, CoMVC
def comvc_contrastive_loss(z: list[torch.Tensor], pred: torch.Tensor, *, temperature: float = 0.1,
                           negative_ratio: float = 0.25) -> torch.Tensor:
    """CoMVC's contrastive alignment loss with negative sampling (Trosten et al. 2021, eq. 8 and Sec. 3.2), as the
    reference code computes it (``Contrastive._loss_with_negative_sampling``), inputs validated.

    Every row ``i`` of view ``u`` is an anchor for each other view ``v``: the positive is row ``i`` of view ``v``;
    ``⌊negative_ratio · V · B⌋`` negatives are drawn with replacement (torch's global RNG, seeded by the fit) among
    the ``V · B`` rows of all views *predicted in another cluster* than the anchor (``pred``, ``(B,)``); the loss is the
    cross-entropy of picking the positive among them, cosine similarity over ``temperature``. An anchor whose batch
    has no row in another cluster (possible at the very start) draws among all rows instead.

    >>> import torch
    >>> z = torch.eye(4)
    >>> pred = torch.tensor([0, 1, 2, 3])
    >>> bool(comvc_contrastive_loss([z, z], pred) < comvc_contrastive_loss([z, z.roll(1, 0)], pred))
    True
    """
    n_views, n = len(z), z[0].shape[0]
    h = F.normalize(torch.cat(z), dim=1)  # (V·B, d)
    logits = h @ h.t() / temperature  # (V·B, V·B) cosine similarity / τ
    rows = torch.arange(n, device=h.device)
    pairs = list(permutations(range(n_views), 2))  # ordered (anchor view, positive view)
    anchor = torch.cat([u * n + rows for u, _ in pairs])  # (P,) with P = V(V-1)·B
    positive = torch.cat([v * n + rows for _, v in pairs])
    cluster = pred.repeat(n_views)  # (V·B,) predicted cluster of every row of every view
    weights = (cluster[None, :] != cluster[anchor][:, None]).float()  # (P, V·B) other-cluster rows
    weights[weights.sum(dim=1) == 0] = 1.0
    negatives = torch.multinomial(weights, max(int(negative_ratio * n_views * n), 1), replacement=True)  # (P, N)
    scores = torch.cat([logits[anchor, positive][:, None], logits[anchor[:, None], negatives]], dim=1)  # (P, 1+N)
    return F.cross_entropy(scores, torch.zeros(len(anchor), dtype=torch.long, device=h.device))


def he_init(module: nn.Module) -> None:
    """He-normal weights for every Conv2d and Linear layer, as the reference code initialises SiMVC and CoMVC
    (``helpers.he_init_weights``; biases keep PyTorch's default)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)


class SiMVCNet(nn.Module):
    """Encoders, weighted-mean fusion, DDC head; ``contrastive=True`` makes it CoMVC (inputs validated)."""

    def __init__(self, dims: list[int], k: int, config: MVCConfig, *, contrastive: bool = False,
                 delta: float = 0.1, negative_ratio: float = 0.25):
        super().__init__()
        self.contrastive, self.temperature, self.rel_sigma = contrastive, config.temperature, config.rel_sigma
        self.delta, self.negative_ratio = delta, negative_ratio
        self.encoders = nn.ModuleList(ViewEncoder(d, config) for d in dims)
        self.fusion_weights = nn.Parameter(torch.zeros(len(dims)))
        self.head = DDCHead(self.encoders[0].out_dim, k, hidden=config.ddc_hidden)
        he_init(self)

    def _fuse(self, z: list[torch.Tensor]) -> torch.Tensor:
        w = torch.softmax(self.fusion_weights, dim=0)
        return (w[:, None, None] * torch.stack(z)).sum(dim=0)  # (B, out_dim)

    def represent(self, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        fused = self._fuse([enc(x)[0] for enc, x in zip(self.encoders, views)])
        return fused, self.head(fused)[1]

    def losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        z = [enc(x)[0] for enc, x in zip(self.encoders, views)]
        hidden, q = self.head(self._fuse(z))
        terms = ddc_loss(hidden, q, rel_sigma=self.rel_sigma)
        total = terms["ddc1"] + terms["ddc2"] + terms["ddc3"]
        if self.contrastive:
            terms["contrast"] = comvc_contrastive_loss(z, q.detach().argmax(dim=1), temperature=self.temperature,
                                                       negative_ratio=self.negative_ratio)
            weight = torch.softmax(self.fusion_weights.detach(), dim=0).min()  # eq. 9's adaptive weight, no gradient
            total = total + self.delta * weight * terms["contrast"]
        terms["objective"] = total
        terms["total"] = total
        return terms


class SiMVC(DeepEstimator):
    """Simple multi-view clustering: weighted-mean fusion + DDC.

    ``MVCConfig(encoder="cnn")`` gives the reference code's image setting (MNIST: two CNN backbones, batches of
    100, Adam at 1e-3, 100 epochs); ``MVCConfig(selection="ddc1", n_restarts=20)`` adds its run selection (each run
    checkpointed at its lowest eval ``ddc_1`` every 4 epochs, the run with the lowest ``ddc_1`` kept). Deviations from
    the reference code: by default (``selection="objective"``) the last epoch of the run with the lowest final
    objective; no gradient clipping (the reference's ``clip_norm=5`` is a no-op there: it clips a parameter
    generator that Adam has already consumed).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> cfg = MVCConfig(hidden=(16,), latent_dim=4, epochs=3, batch_size=40, n_restarts=1)
    >>> SiMVC(2, config=cfg).fit_predict(views).shape
    (80,)
    """

    config_class = MVCConfig
    contrastive = False

    def __init__(self, n_clusters: int, *, config: MVCConfig | None = None, seed: int = 0, device: str = "cpu",
                 snapshot_epochs: tuple[int, ...] = (), **overrides):
        super().__init__(n_clusters, config=config, seed=seed, device=device, **overrides)
        self.snapshot_epochs = snapshot_epochs

    def _check_params(self, views, config):
        check_image_views(views, config)

    def _build(self, dims, k, config):
        return SiMVCNet(dims, k, config, contrastive=self.contrastive)

    def _train(self, tensors, k, config, generator, y):
        model = self._build([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        return self._train_module(model, tensors, k, config, generator, y, snapshot_epochs=self.snapshot_epochs)


class CoMVC(SiMVC):
    """SiMVC with contrastive alignment, as the reference code: ``L_DDC + δ · min_v softmax(w)_v · L_contrast``
    with δ = 0.1, the weight detached, τ = 0.1 and ``negative_ratio · V · B`` negatives sampled among rows predicted
    in other clusters (:func:`comvc_contrastive_loss`). No projection head (the reference's MNIST setting).
    """

    contrastive = True

    def __init__(self, n_clusters: int, *, delta: float = 0.1, negative_ratio: float = 0.25,
                 config: MVCConfig | None = None, seed: int = 0, device: str = "cpu",
                 snapshot_epochs: tuple[int, ...] = (), **overrides):
        super().__init__(n_clusters, config=config, seed=seed, device=device, snapshot_epochs=snapshot_epochs,
                         **overrides)
        self.delta, self.negative_ratio = delta, negative_ratio

    def _check_params(self, views, config):
        super()._check_params(views, config)
        for name in ("delta", "negative_ratio"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite positive number, got {value!r}")

    def _build(self, dims, k, config):
        return SiMVCNet(dims, k, replace(config, temperature=0.1), contrastive=True, delta=self.delta,
                        negative_ratio=self.negative_ratio)
