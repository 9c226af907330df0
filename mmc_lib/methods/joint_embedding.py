"""Aligning two encoders' outputs in one joint embedding space, from paired data.

Two aligners with one interface — ``fit(x_a, x_b)`` on paired rows, then
``transform_a`` / ``transform_b`` (each modality alone, e.g. a query) and
``transform(x_a, x_b)`` (both) — so the joint space serves clustering and
cross-modal retrieval alike:

* :class:`CCAAligner` — canonical correlation analysis (Hotelling 1936), scikit-learn's
  :class:`~sklearn.cross_decomposition.CCA`; the "correlation matching" space of
  Rasiwasia et al. (ACM MM 2010). Optional per-view PCA first keeps it well posed
  when a view has more features than pairs.
* :class:`ContrastiveAligner` — two MLP heads trained with the symmetric InfoNCE loss
  and a learnable temperature, as CLIP (Radford et al., ICML 2021, Fig. 3), on fixed
  encoder features.

Neither aligner sees class labels. Inputs are standardised with statistics of the
training pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cross_decomposition import CCA
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from torch import nn

from mmc_lib.nn import check_finite_losses, minibatches, mlp
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_views

JOINT_MODES = ("mean", "concat")


def _check_pairs(x_a, x_b) -> tuple[np.ndarray, np.ndarray]:
    x_a, x_b = check_views([x_a, x_b], min_views=2, name="paired views (x_a, x_b)")
    if x_a.shape[0] < 3:
        raise ValueError(f"need at least 3 paired rows to fit an alignment, got {x_a.shape[0]}")
    return x_a, x_b


def _check_width(x, width: int, name: str) -> np.ndarray:
    (x,) = check_views([x], name=name)
    if x.shape[1] != width:
        raise ValueError(f"{name} has {x.shape[1]} features, but the aligner was fitted on {width}")
    return x


def joint_vectors(z_a: np.ndarray, z_b: np.ndarray, *, how: str = "mean") -> np.ndarray:
    """One vector per pair: L2-normalise each modality, then average (``"mean"``) or stack (``"concat"``).

    Examples
    --------
    >>> joint_vectors(np.array([[2.0, 0.0]]), np.array([[0.0, 3.0]])).tolist()
    [[0.5, 0.5]]
    """
    if how not in JOINT_MODES:
        raise ValueError(f"unknown joint mode {how!r}; known: {JOINT_MODES}")
    z_a, z_b = check_views([z_a, z_b], name="paired embeddings")
    a = z_a / np.maximum(np.linalg.norm(z_a, axis=1, keepdims=True), 1e-12)
    b = z_b / np.maximum(np.linalg.norm(z_b, axis=1, keepdims=True), 1e-12)
    if how == "concat":
        return np.hstack([a, b])
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"'mean' needs both embeddings in one space, got widths {a.shape[1]} and {b.shape[1]}")
    return (a + b) / 2


# ----------------------------------------------------------------------------- CCA


class CCAAligner:
    """CCA joint space: ``z_a = W_aᵀ x_a``, ``z_b = W_bᵀ x_b`` with maximally correlated columns.

    Parameters
    ----------
    n_components : int
        Canonical pairs kept (at most the smaller view width, after PCA).
    pca_components : int or None
        Reduce each view to this many principal components first (None: no PCA).
    max_iter, tol
        Passed to scikit-learn's NIPALS :class:`~sklearn.cross_decomposition.CCA`.

    Attributes
    ----------
    cca_ : the fitted scikit-learn CCA
    correlations_ : ndarray (n_components,)
        Canonical correlations on the training pairs.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(200, 2))
    >>> x_a = s @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(200, 6))
    >>> x_b = s @ rng.normal(size=(2, 4)) + 0.1 * rng.normal(size=(200, 4))
    >>> bool(CCAAligner(2).fit(x_a, x_b).correlations_.min() > 0.9)
    True
    """

    def __init__(self, n_components: int = 10, *, pca_components: int | None = None, max_iter: int = 1000,
                 tol: float = 1e-6):
        self.n_components = n_components
        self.pca_components = pca_components
        self.max_iter = max_iter
        self.tol = tol

    @one_thread
    def fit(self, x_a, x_b) -> CCAAligner:
        x_a, x_b = _check_pairs(x_a, x_b)
        self.n_features_ = (x_a.shape[1], x_b.shape[1])
        self.prep_ = [self._fit_prep(x) for x in (x_a, x_b)]
        p_a, p_b = self._prep(0, x_a), self._prep(1, x_b)
        limit = min(p_a.shape[1], p_b.shape[1], x_a.shape[0] - 1)
        if not 1 <= self.n_components <= limit:
            raise ValueError(f"n_components must be between 1 and {limit} (smaller view width / n-1), "
                             f"got {self.n_components}")
        self.cca_ = CCA(n_components=self.n_components, scale=False, max_iter=self.max_iter, tol=self.tol)
        self.cca_.fit(p_a, p_b)
        z_a, z_b = self.transform(x_a, x_b)
        self.correlations_ = np.array([np.corrcoef(z_a[:, j], z_b[:, j])[0, 1] for j in range(self.n_components)])
        return self

    def _fit_prep(self, x: np.ndarray) -> list:
        steps = [StandardScaler().fit(x)]
        if self.pca_components is not None:
            n_pc = min(self.pca_components, x.shape[1], x.shape[0] - 1)
            steps.append(PCA(n_components=n_pc, svd_solver="full").fit(steps[0].transform(x)))
        return steps

    def _prep(self, view: int, x: np.ndarray) -> np.ndarray:
        for step in self.prep_[view]:
            x = step.transform(x)
        return x

    def transform_a(self, x_a) -> np.ndarray:
        """Project modality A alone, ``(n, n_components)``."""
        x_a = _check_width(x_a, self.n_features_[0], "x_a")
        p = self._prep(0, x_a)  # centred: the scaler (and PCA) already remove the train mean
        return (p @ self.cca_.x_rotations_).astype(np.float32)

    def transform_b(self, x_b) -> np.ndarray:
        """Project modality B alone, ``(n, n_components)``."""
        x_b = _check_width(x_b, self.n_features_[1], "x_b")
        p = self._prep(1, x_b)
        return (p @ self.cca_.y_rotations_).astype(np.float32)

    def transform(self, x_a, x_b) -> tuple[np.ndarray, np.ndarray]:
        return self.transform_a(x_a), self.transform_b(x_b)


# ---------------------------------------------------------------------- contrastive


@dataclass(frozen=True)
class ContrastiveConfig:
    embed_dim: int = 32  # width of the joint space
    hidden: tuple[int, ...] = (256,)  # hidden widths of each modality's MLP head
    epochs: int = 100  # at most this many passes over the training pairs
    val_fraction: float = 0.1  # pairs held out to early-stop on their InfoNCE loss (0: train to the end)
    patience: int = 5  # stop after this many epochs without a lower held-out loss
    batch_size: int = 256  # pairs per step; the other pairs of a batch are the negatives
    lr: float = 1e-3  # Adam learning rate
    weight_decay: float = 1e-4  # L2 on the heads (small paired sets overfit)
    dropout: float = 0.1  # dropout after each hidden layer
    init_temperature: float = 0.07  # CLIP's initial tau
    max_logit_scale: float = 100.0  # CLIP clips 1/tau at 100

    @classmethod
    def preset(cls, name: str, **overrides) -> ContrastiveConfig:
        """``"smoke"`` (a few seconds on a CPU) or ``"full"``; keyword overrides on top."""
        presets = {"smoke": cls(epochs=15), "full": cls()}
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; known: {sorted(presets)}")
        return replace(presets[name], **overrides)


def symmetric_info_nce(z_a: torch.Tensor, z_b: torch.Tensor, logit_scale: torch.Tensor) -> dict[str, torch.Tensor]:
    """CLIP's symmetric InfoNCE on L2-normalised embeddings; row ``i`` of each is a true pair.

    InfoNCE (van den Oord et al. 2018, eq. 4) in both directions, averaged as in
    CLIP (Radford et al. 2021, Fig. 3): ``logits = s · z_a z_bᵀ``, cross-entropy
    towards the diagonal along rows (a→b) and columns (b→a).

    Examples
    --------
    >>> z = torch.eye(3)
    >>> round(float(symmetric_info_nce(z, z, torch.tensor(1.0))["total"]), 4)  # -log(e / (e + 2))
    0.5514
    """
    logits = logit_scale * z_a @ z_b.T  # (B, B): similarity of every a to every b
    target = torch.arange(z_a.shape[0], device=z_a.device)
    a2b = F.cross_entropy(logits, target)  # each a picks its own b among the batch
    b2a = F.cross_entropy(logits.T, target)  # each b picks its own a
    return {"a2b": a2b, "b2a": b2a, "total": (a2b + b2a) / 2}


class _TwoHeads(nn.Module):
    def __init__(self, d_a: int, d_b: int, cfg: ContrastiveConfig):
        super().__init__()
        self.head_a = mlp([d_a, *cfg.hidden, cfg.embed_dim], dropout=cfg.dropout)
        self.head_b = mlp([d_b, *cfg.hidden, cfg.embed_dim], dropout=cfg.dropout)
        # CLIP: logit scale = log(1/tau), learned, initialised at tau = 0.07
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.init_temperature)))

    def forward(self, x_a: torch.Tensor, x_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.normalize(self.head_a(x_a), dim=1), F.normalize(self.head_b(x_b), dim=1)  # (B, embed_dim) each


class ContrastiveAligner:
    """Two MLP heads mapping paired features into one space with CLIP's symmetric InfoNCE.

    Parameters
    ----------
    config : ContrastiveConfig, optional
    seed : int
        Seeds the initialisation and the batch order (deterministic on CPU).
    device : str

    Attributes
    ----------
    history_ : list of dict
        Per epoch: mean training ``total``, ``a2b``, ``b2a`` loss, the ``temperature`` and,
        with held-out pairs, ``val_total`` (InfoNCE of the held-out set as one batch).
    best_epoch_ : int
        The epoch whose weights are kept: lowest held-out loss (lowest training loss
        when ``val_fraction=0``). Instance discrimination overfits small paired sets
        (the class structure fades while the training loss still falls), hence early stopping.
    temperature_ : float
        The learned temperature at the end of training.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = rng.normal(size=(128, 3))
    >>> cfg = ContrastiveConfig(embed_dim=4, hidden=(16,), epochs=3, batch_size=64)
    >>> model = ContrastiveAligner(cfg, seed=0).fit(s @ rng.normal(size=(3, 8)), s @ rng.normal(size=(3, 5)))
    >>> len(model.history_), model.transform_a(np.zeros((2, 8))).shape
    (3, (2, 4))
    """

    def __init__(self, config: ContrastiveConfig | None = None, *, seed: int = 0, device: str = "cpu"):
        self.config = config
        self.seed = seed
        self.device = device

    @one_thread
    def fit(self, x_a, x_b) -> ContrastiveAligner:
        x_a, x_b = _check_pairs(x_a, x_b)
        cfg = self.config or ContrastiveConfig()
        if cfg.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 (a batch needs negatives), got {cfg.batch_size}")
        if cfg.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {cfg.epochs}")
        if not 0.0 <= cfg.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in [0, 0.5), got {cfg.val_fraction}")
        self.n_features_ = (x_a.shape[1], x_b.shape[1])
        train, val = self._split(x_a.shape[0], cfg.val_fraction)
        self.scalers_ = [StandardScaler().fit(x_a[train]), StandardScaler().fit(x_b[train])]
        t_a, t_b = self._tensor(0, x_a), self._tensor(1, x_b)
        torch.manual_seed(self.seed)
        self.model_ = _TwoHeads(x_a.shape[1], x_b.shape[1], cfg).to(self.device)
        opt = torch.optim.Adam(self.model_.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        gen = torch.Generator().manual_seed(self.seed)
        self.history_, best, best_state = [], math.inf, None
        for epoch in range(cfg.epochs):
            record = self._epoch(t_a[train], t_b[train], opt, gen, cfg, epoch)
            if len(val):
                record["val_total"] = self._val_loss(t_a[val], t_b[val])
            self.history_.append(record)
            score = record.get("val_total", record["total"])
            if score < best:  # model selection by the lowest held-out InfoNCE loss: pairs only, no labels
                best, self.best_epoch_ = score, epoch
                best_state = {k: v.detach().clone() for k, v in self.model_.state_dict().items()}
            elif len(val) and epoch - self.best_epoch_ >= cfg.patience:
                break
        self.model_.load_state_dict(best_state)
        self.model_.eval()
        self.temperature_ = float(1.0 / self.model_.logit_scale.detach().exp())
        return self

    def _split(self, n: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
        n_val = int(round(fraction * n))
        order = np.random.default_rng(self.seed).permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    @torch.no_grad()
    def _val_loss(self, v_a: torch.Tensor, v_b: torch.Tensor) -> float:
        self.model_.eval()
        z_a, z_b = self.model_(v_a, v_b)  # the whole held-out set in one batch
        return float(symmetric_info_nce(z_a, z_b, self.model_.logit_scale.exp())["total"])

    def _epoch(self, t_a, t_b, opt, gen, cfg: ContrastiveConfig, epoch: int) -> dict:
        self.model_.train()
        sums: dict[str, float] = {}
        n_batches = 0
        for idx in minibatches(t_a.shape[0], cfg.batch_size, generator=gen, device=self.device, drop_last=True):
            z_a, z_b = self.model_(t_a[idx], t_b[idx])
            losses = symmetric_info_nce(z_a, z_b, self.model_.logit_scale.exp())
            check_finite_losses(losses, epoch=epoch)
            opt.zero_grad()
            losses["total"].backward()
            opt.step()
            with torch.no_grad():  # CLIP clips the scale so tau stays >= 1/100
                self.model_.logit_scale.clamp_(0.0, math.log(cfg.max_logit_scale))
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            n_batches += 1
        record = {"epoch": epoch, **{k: v / n_batches for k, v in sums.items()}}
        record["temperature"] = float(1.0 / self.model_.logit_scale.detach().exp())
        return record

    def _tensor(self, view: int, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self.scalers_[view].transform(x), dtype=torch.float32, device=self.device)

    @torch.no_grad()
    def _embed(self, view: int, x) -> np.ndarray:
        x = _check_width(x, self.n_features_[view], "x_a" if view == 0 else "x_b")
        head = self.model_.head_a if view == 0 else self.model_.head_b
        return F.normalize(head(self._tensor(view, x)), dim=1).cpu().numpy()

    def transform_a(self, x_a) -> np.ndarray:
        """Unit-norm embedding of modality A alone, ``(n, embed_dim)``."""
        return self._embed(0, x_a)

    def transform_b(self, x_b) -> np.ndarray:
        """Unit-norm embedding of modality B alone, ``(n, embed_dim)``."""
        return self._embed(1, x_b)

    def transform(self, x_a, x_b) -> tuple[np.ndarray, np.ndarray]:
        return self.transform_a(x_a), self.transform_b(x_b)
