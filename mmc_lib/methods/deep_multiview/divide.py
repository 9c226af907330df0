"""DIVIDE (Lu, Lin, Yang, Peng, Hu & Peng, "Decoupled contrastive multi-view clustering with high-order random
walks", AAAI 2024, arXiv:2308.11164; authors' code github.com/XLearning-SCU/2024-AAAI-DIVIDE).

Per view ``v``: an online encoder ``f_v``, a momentum (EMA) target encoder ``f̄_v`` and a cross-view decoder
``g_v`` (a 4×-wide two-layer MLP). With ``z_v = f_v(x_v)``, ``z̄_v = f̄_v(x_v)`` and ``p_v = g_v(z_v)``:

* **intra-view** contrast in each view's own space: ``ℓ(z_v, z̄_v; M_v)``;
* **inter-view** contrast in the other view's space: ``ℓ(p_v, z̄_u; M_u)`` — the two are decoupled (different
  embedding spaces), the paper's "decoupled" architecture;
* ``ℓ(q, k; M) = mean_i Σ_j M_ij / Σ_j' M_ij' · (-log softmax_j(q̂_i·k̂_j / τ))``, a soft-target InfoNCE whose
  targets ``M`` are the identity during warm-up and afterwards the **high-order random walk** on the target
  features of the batch (:func:`random_walk_affinity`): ``A = rownorm(exp(-‖ẑ_i - ẑ_j‖² / 0.1))``,
  ``M = α I + (1 - α) A^s`` with ``s = 5`` steps and ``α = 0.5``. Walks reach out-of-neighbourhood positives
  and leave in-neighbourhood negatives with little mass — the paper's answer to false negatives/positives.

Labels: k-means on the concatenation of ``normalize(g_v(f̄_v(x_v)))`` over views, L2-normalised (authors'
``extract_feature``). Defaults follow the authors' configs (``config/*.yaml`` and ``main_train.py``): encoders
``d → 1024 → 1024 → 1024 → 128`` (no bias, BatchNorm, ReLU, dropout 0.2 after the first two hidden layers, a final
affine-free BatchNorm), τ = 0.5, EMA momentum 0.98, batch 1024, Adam (β = 0.9, 0.99) at lr = 5e-4 · 1024/256 with a
20-epoch linear warm-up, 200 epochs, random-walk targets from epoch 101, each view standardised (z-scores).

Deviations from the authors' code, all named:

* **More than two views**: the authors' model is written for two views. Here the intra term averages over views
  and the inter term over ordered pairs ``(v, u)``, ``u ≠ v`` (``g_v`` maps view ``v`` towards every other view's
  target space); with two views this is exactly their loss.
* **Loss scale**: the authors' ``ContrastiveLoss`` averages over all ``B²`` entries (an extra ``1/B``); we average
  over the ``B`` anchors. Adam is insensitive to a constant factor.
* **Selection**: the authors report the last epoch, as we do (no label-based selection in their code); ``n_restarts``
  > 1 picks the lowest final loss.
* The missing-view (incomplete) setting of the paper is not implemented; every view must be present.
* Batches: a last partial batch is kept (the authors drop it).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from itertools import permutations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.preprocessing import minmax_scale, scale
from torch import nn

from mmc_lib.methods.base import DeepEstimator, Run
from mmc_lib.nn import Hooks, adam, minibatches, train
from mmc_lib.validation import check_config

__all__ = ["DIVIDE", "DIVIDEConfig", "random_walk_affinity", "soft_target_contrast"]

_NORMS = ("standard", "min-max", "none")


@dataclass(frozen=True)
class DIVIDEConfig:
    """Networks and schedule (defaults: the authors' ``config/*.yaml`` and ``main_train.py``)."""

    hidden: tuple[int, ...] = (1024, 1024, 1024)  # encoder hidden widths per view
    embed_dim: int = 128  # width of z_v
    dropout: float = 0.2  # after every hidden layer but the last
    decoder_ratio: float = 4.0  # cross-view decoder hidden width = ratio · embed_dim
    temperature: float = 0.5  # τ of the contrastive loss
    momentum: float = 0.98  # EMA of the target encoders
    epochs: int = 200  # training epochs
    start_rectify_epoch: int = 100  # identity targets up to this epoch, random-walk targets after
    warmup_epochs: int = 20  # linear learning-rate warm-up
    batch_size: int = 1024  # rows per step
    lr: float = 2e-3  # Adam learning rate = the authors' blr 5e-4 · batch_size / 256
    walk_temperature: float = 0.1  # Gaussian kernel width of the affinity graph
    walk_steps: int = 5  # order s of the random walk
    walk_alpha: float = 0.5  # weight of the identity (self) in the targets
    data_norm: str = "standard"  # per-view input scaling: "standard" (z-score), "min-max" or "none"
    kmeans_n_init: int = 10  # k-means starts on the embedding
    n_restarts: int = 1  # restarts per seed; the lowest final training loss wins
    divergence_limit: float = 1e8  # a loss beyond this (or NaN/inf) stops training with an error

    def __post_init__(self):
        check_config(self, at_least={"embed_dim": 1, "dropout": 0.0, "decoder_ratio": 0.01, "temperature": 1e-6,
                                     "momentum": 0.0, "epochs": 1, "start_rectify_epoch": 0, "warmup_epochs": 0,
                                     "batch_size": 2, "lr": 0.0, "walk_temperature": 1e-6, "walk_steps": 1,
                                     "walk_alpha": 0.0, "kmeans_n_init": 1, "n_restarts": 1})
        if not self.dropout < 1 or not self.momentum <= 1 or not self.walk_alpha <= 1:
            raise ValueError(f"dropout must be < 1, momentum and walk_alpha <= 1; got {self.dropout}, "
                             f"{self.momentum}, {self.walk_alpha}")
        if self.data_norm not in _NORMS:
            raise ValueError(f"unknown data_norm {self.data_norm!r}; known: {list(_NORMS)}")


@torch.no_grad()
def random_walk_affinity(z: torch.Tensor, *, temperature: float = 0.1, steps: int = 5,
                         alpha: float = 0.5) -> torch.Tensor:
    """Soft positives from an ``s``-step random walk: ``α I + (1 - α) A^s``, ``A`` the row-normalised Gaussian
    affinity of the L2-normalised rows of ``z`` (``‖ẑ_i - ẑ_j‖² = 2 - 2 ẑ_i·ẑ_j``). Rows sum to 1.

    >>> z = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    >>> m = random_walk_affinity(z)
    >>> [round(v, 4) for v in m[0].tolist()]  # rows 0 and 1 coincide: half self, half the walk over both
    [0.75, 0.25, 0.0]
    """
    zn = F.normalize(z, dim=1)
    dist = (2 - 2 * zn @ zn.t()).clamp(min=0.0)  # (B, B) squared distances on the sphere
    a = torch.exp(-dist / temperature)
    a = a / a.sum(dim=1, keepdim=True)  # transition matrix
    walk = torch.linalg.matrix_power(a, steps)  # s-step transition probabilities
    return alpha * torch.eye(len(z), device=z.device, dtype=z.dtype) + (1 - alpha) * walk


def soft_target_contrast(q: torch.Tensor, k: torch.Tensor, targets: torch.Tensor | None = None,
                         temperature: float = 0.5) -> torch.Tensor:
    """``mean_i Σ_j t_ij (-log softmax_j(q̂_i·k̂_j / τ))`` with ``t = targets / rowsum`` (identity when ``None``:
    plain InfoNCE with the same row of ``k`` as the positive).

    >>> q = torch.eye(2)
    >>> round(float(soft_target_contrast(q, q, temperature=1.0)), 4)  # -log(e / (e + 1))
    0.3133
    """
    logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).t() / temperature  # (B, B)
    if targets is None:
        return F.cross_entropy(logits, torch.arange(len(q), device=q.device))
    t = targets / targets.sum(dim=1, keepdim=True)
    return -(t * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def _encoder(d_in: int, config: DIVIDEConfig) -> nn.Sequential:
    """``Linear(no bias) → BN → ReLU [→ Dropout]`` per hidden layer (no dropout after the last), then
    ``Linear(no bias) → BN(affine=False)`` (authors' ``FCN``)."""
    widths = [d_in, *config.hidden]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU()]
        if config.dropout and i < len(config.hidden) - 1:
            layers.append(nn.Dropout(config.dropout))
    layers += [nn.Linear(widths[-1], config.embed_dim, bias=False), nn.BatchNorm1d(config.embed_dim, affine=False)]
    return nn.Sequential(*layers)


class DIVIDENet(nn.Module):
    """Online and EMA target encoders and the cross-view decoders (inputs validated)."""

    def __init__(self, dims: list[int], config: DIVIDEConfig):
        super().__init__()
        self.config = config
        self.online = nn.ModuleList(_encoder(d, config) for d in dims)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)  # moved by EMA only
        hidden = int(config.embed_dim * config.decoder_ratio)
        self.decoders = nn.ModuleList(
            nn.Sequential(nn.Linear(config.embed_dim, hidden), nn.ReLU(), nn.Linear(hidden, config.embed_dim))
            for _ in dims)

    @torch.no_grad()
    def update_target(self) -> None:
        """``θ̄ ← m θ̄ + (1 - m) θ`` (parameters only; the target's BatchNorm keeps its own running statistics)."""
        m = self.config.momentum
        for p_t, p_o in zip(self.target.parameters(), self.online.parameters()):
            p_t.mul_(m).add_(p_o.detach(), alpha=1 - m)

    def losses(self, views: list[torch.Tensor], *, rectify: bool) -> dict[str, torch.Tensor]:
        cfg = self.config
        self.update_target()  # authors' order: EMA step first, then the forward pass
        z = [f(x) for f, x in zip(self.online, views)]  # V × (B, D)
        p = [g(zv) for g, zv in zip(self.decoders, z)]  # V × (B, D): view v predicted in the other views' space
        with torch.no_grad():
            z_t = [f(x) for f, x in zip(self.target, views)]  # V × (B, D)
        masks = [random_walk_affinity(zt, temperature=cfg.walk_temperature, steps=cfg.walk_steps,
                                      alpha=cfg.walk_alpha) if rectify else None for zt in z_t]
        intra = sum(soft_target_contrast(z[v], z_t[v], masks[v], cfg.temperature) for v in range(len(z))) / len(z)
        pairs = list(permutations(range(len(z)), 2))
        inter = sum(soft_target_contrast(p[v], z_t[u], masks[u], cfg.temperature) for v, u in pairs) / len(pairs)
        total = intra + inter
        return {"intra": intra, "inter": inter, "objective": total, "total": total}

    def embed(self, views: list[torch.Tensor]) -> torch.Tensor:
        feats = [F.normalize(g(f(x)), dim=1) for f, g, x in zip(self.target, self.decoders, views)]
        return F.normalize(torch.cat(feats, dim=1), dim=1)  # (n, V·D)


class DIVIDE(DeepEstimator):
    """Decoupled contrastive multi-view clustering with high-order random walks; k-means on the decoded target
    features.

    Parameters
    ----------
    n_clusters : int
    seed : int — seeds initialisation, dropout, batch order and k-means; never moves the caller's RNG.
    device : str — ``"cpu"``, ``"cuda"`` or ``"auto"``.
    config : DIVIDEConfig, optional — networks and schedule (default: the authors' settings).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .1, (60, 2)) for _ in range(2)]
    >>> cfg = DIVIDEConfig(hidden=(16, 16), embed_dim=8, epochs=3, start_rectify_epoch=1, warmup_epochs=1,
    ...                    batch_size=32, kmeans_n_init=2)
    >>> DIVIDE(2, config=cfg).fit_predict(views).shape
    (60,)
    """

    config_class = DIVIDEConfig

    def _preprocess(self, views, config):
        if config.data_norm == "standard":
            return [scale(v.astype(np.float64)).astype(np.float32) for v in views]
        if config.data_norm == "min-max":
            return [minmax_scale(v.astype(np.float64)).astype(np.float32) for v in views]
        return views

    def _train(self, tensors, k, config, generator, y) -> Run:
        model = DIVIDENet([t.shape[1] for t in tensors], config).to(tensors[0].device)
        params = [p for p in model.parameters() if p.requires_grad]
        optimiser = adam(params, lr=config.lr, betas=(0.9, 0.99), config=config)
        n, device = tensors[0].shape[0], tensors[0].device
        n_batches = max(1, math.ceil(n / config.batch_size))
        step = {"i": 0}

        def batches():
            step["i"] = 0
            return minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True)

        def loss_fn(idx, epoch):
            step["i"] += 1
            smooth_epoch = epoch - 1 + step["i"] / n_batches  # authors' per-step warm-up schedule
            lr = config.lr * min(1.0, smooth_epoch / config.warmup_epochs) if config.warmup_epochs else config.lr
            for group in optimiser.param_groups:
                group["lr"] = lr
            return model.losses([t[idx] for t in tensors], rectify=epoch > config.start_rectify_epoch)

        history = train(loss_fn, optimiser, batches, config.epochs, module=model,
                        hooks=Hooks(on_epoch=self._monitor(model, tensors, k, config, y)), limit=config.divergence_limit)
        return Run(model, history)

    @torch.no_grad()
    def _represent(self, model, tensors) -> tuple[np.ndarray, None]:
        """The decoded target features (k-means clusters them)."""
        model.eval()
        return model.embed(tensors).cpu().numpy(), None
