"""Aligning two encoders' outputs in one joint embedding space, from paired data.

Two aligners with one interface — ``fit(x_a, x_b)`` on paired rows, then
``transform_a`` / ``transform_b`` (each modality alone, e.g. a query) and
``transform(x_a, x_b)`` (both) — so the joint space serves clustering and
cross-modal retrieval alike:

* :class:`CCAAligner` — canonical correlation analysis (Hotelling 1936) in closed form (whitening + SVD,
  float64), so the space does not depend on the BLAS kernel; the "correlation matching" space of
  Rasiwasia et al. (ACM MM 2010). Optional per-view PCA first keeps it well posed
  when a view has more features than pairs.
* :class:`ContrastiveAligner` — two MLP heads trained with the symmetric InfoNCE loss
  (:func:`mmc_lib.losses.contrastive.clip_info_nce`) and a learnable temperature, as CLIP (Radford et al., ICML 2021, Fig. 3), on fixed
  encoder features.

Neither aligner sees class labels. Inputs are standardised with statistics of the
training pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from torch import nn

from mmc_lib.losses.contrastive import clip_info_nce
from mmc_lib.nn import Hooks, adam, minibatches, mlp, seeded, train
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_fitted, check_views

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


def canonical_directions(p_a: np.ndarray, p_b: np.ndarray, n_components: int, *,
                         reg: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form CCA of two centred views: ``(W_a, W_b, rho)`` with ``z_a = p_a W_a``, ``z_b = p_b W_b``.

    Whiten each view, ``K = C_aa^{-1/2} C_ab C_bb^{-1/2}``, and take the SVD ``K = U diag(rho) V^T``; then
    ``W_a = C_aa^{-1/2} U``, ``W_b = C_bb^{-1/2} V`` (Hotelling 1936; Hardoon et al. 2004, eq. 5). Each canonical
    variate has unit variance and ``rho`` are the canonical correlations, sorted. ``reg`` adds a ridge of
    ``reg × mean variance`` to each covariance (regularised CCA, Vinod 1976) so a view with (near-)collinear features
    stays well posed. Everything is float64 and non-iterative, and each pair's sign is fixed (largest ``|W_a|``
    entry positive): the result does not depend on the BLAS kernel or thread count beyond round-off, unlike an
    iterative NIPALS fit stopped at a tolerance.
    """
    p_a, p_b = np.asarray(p_a, dtype=np.float64), np.asarray(p_b, dtype=np.float64)
    n = p_a.shape[0]
    c_aa, c_bb, c_ab = p_a.T @ p_a / (n - 1), p_b.T @ p_b / (n - 1), p_a.T @ p_b / (n - 1)
    w_a, w_b = _inverse_sqrt(c_aa, reg), _inverse_sqrt(c_bb, reg)
    u, rho, vt = np.linalg.svd(w_a @ c_ab @ w_b)
    dirs_a, dirs_b = w_a @ u[:, :n_components], w_b @ vt[:n_components].T
    signs = np.sign(dirs_a[np.abs(dirs_a).argmax(axis=0), np.arange(n_components)])
    return dirs_a * signs, dirs_b * signs, np.clip(rho[:n_components], 0.0, 1.0)


def _inverse_sqrt(cov: np.ndarray, reg: float) -> np.ndarray:
    """``(cov + reg·mean(diag)·I)^{-1/2}`` by a symmetric eigendecomposition."""
    ridge = reg * max(float(np.trace(cov)) / len(cov), np.finfo(np.float64).tiny)
    eigval, eigvec = np.linalg.eigh(cov + ridge * np.eye(len(cov)))
    return (eigvec / np.sqrt(np.maximum(eigval, ridge))) @ eigvec.T


class CCAAligner:
    """CCA joint space: ``z_a = W_aᵀ x_a``, ``z_b = W_bᵀ x_b`` with maximally correlated columns.

    Parameters
    ----------
    n_components : int
        Canonical pairs kept (at most the smaller view width, after PCA).
    pca_components : int or None
        Reduce each view to this many principal components first (None: no PCA).
    reg : float
        Ridge on each view's covariance, relative to its mean variance (see :func:`canonical_directions`).

    Attributes
    ----------
    weights_ : (W_a, W_b)
        Canonical directions in each view's (standardised, PCA-reduced) space, float64.
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

    def __init__(self, n_components: int = 10, *, pca_components: int | None = None, reg: float = 1e-4):
        self.n_components = n_components
        self.pca_components = pca_components
        self.reg = reg

    @one_thread
    def fit(self, x_a, x_b) -> CCAAligner:
        x_a, x_b = _check_pairs(x_a, x_b)
        if not self.reg >= 0:
            raise ValueError(f"reg must be >= 0, got {self.reg}")
        self.n_features_ = (x_a.shape[1], x_b.shape[1])
        self.prep_ = [self._fit_prep(x) for x in (x_a, x_b)]
        p_a, p_b = self._prep(0, x_a), self._prep(1, x_b)
        limit = min(p_a.shape[1], p_b.shape[1], x_a.shape[0] - 1)
        if not 1 <= self.n_components <= limit:
            raise ValueError(f"n_components must be between 1 and {limit} (smaller view width / n-1), "
                             f"got {self.n_components}")
        *self.weights_, self.correlations_ = canonical_directions(p_a, p_b, self.n_components, reg=self.reg)
        return self

    def _fit_prep(self, x: np.ndarray) -> list:
        x = np.asarray(x, dtype=np.float64)
        steps = [StandardScaler().fit(x)]
        if self.pca_components is not None:
            n_pc = min(self.pca_components, x.shape[1], x.shape[0] - 1)
            steps.append(PCA(n_components=n_pc, svd_solver="full").fit(steps[0].transform(x)))
        return steps

    def _prep(self, view: int, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        for step in self.prep_[view]:
            x = step.transform(x)
        return x

    def transform_a(self, x_a) -> np.ndarray:
        """Project modality A alone, ``(n, n_components)``."""
        check_fitted(self, "weights_", "fit(x_a, x_b)")
        x_a = _check_width(x_a, self.n_features_[0], "x_a")
        p = self._prep(0, x_a)  # centred: the scaler (and PCA) already remove the train mean
        return (p @ self.weights_[0]).astype(np.float32)

    def transform_b(self, x_b) -> np.ndarray:
        """Project modality B alone, ``(n, n_components)``."""
        check_fitted(self, "weights_", "fit(x_a, x_b)")
        x_b = _check_width(x_b, self.n_features_[1], "x_b")
        p = self._prep(1, x_b)
        return (p @ self.weights_[1]).astype(np.float32)

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
        with seeded(self.seed) as gen:
            self.model_ = _TwoHeads(x_a.shape[1], x_b.shape[1], cfg).to(self.device)
            self.history_ = self._train(t_a[train], t_b[train], t_a[val], t_b[val], gen, cfg)
        self.model_.eval()
        self.temperature_ = float(1.0 / self.model_.logit_scale.detach().exp())
        return self

    def _split(self, n: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
        n_val = int(round(fraction * n))
        order = np.random.default_rng(self.seed).permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _train(self, t_a, t_b, v_a, v_b, gen: torch.Generator, cfg: ContrastiveConfig) -> list[dict]:
        """Adam on the shared trainer; keeps the state of the epoch with the lowest held-out InfoNCE (pairs only,
        no labels) and stops after ``patience`` epochs without improvement."""
        model, best = self.model_, {"score": math.inf, "state": None}

        def loss_fn(idx, epoch):
            z_a, z_b = model(t_a[idx], t_b[idx])
            return clip_info_nce(z_a, z_b, model.logit_scale.exp())

        def clamp_scale(batch):  # CLIP clips the scale so tau stays >= 1/100
            with torch.no_grad():
                model.logit_scale.clamp_(0.0, math.log(cfg.max_logit_scale))

        def on_epoch(epoch, record):
            if epoch == 0:
                return
            record["temperature"] = float(1.0 / model.logit_scale.detach().exp())
            if len(v_a):
                z_a, z_b = model(v_a, v_b)  # the whole held-out set in one batch
                record["val_total"] = float(clip_info_nce(z_a, z_b, model.logit_scale.exp())["total"])
            score = record.get("val_total", record["total"])
            if score < best["score"]:
                best["score"], self.best_epoch_ = score, epoch
                best["state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}

        def patience_left(epoch):  # before epoch `epoch`: did the last one improve, or is patience left?
            last = epoch - 1
            return self.best_epoch_ == last or not (len(v_a) and last - self.best_epoch_ >= cfg.patience)

        opt = adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, config=cfg)
        batches = lambda: minibatches(len(t_a), cfg.batch_size, generator=gen, device=self.device,  # noqa: E731
                                      drop_last=True)
        history = train(loss_fn, opt, batches, cfg.epochs, module=model,
                        hooks=Hooks(before_epoch=lambda e: e == 1 or patience_left(e), after_step=clamp_scale,
                                    on_epoch=on_epoch))
        model.load_state_dict(best["state"])
        return history

    def _tensor(self, view: int, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(self.scalers_[view].transform(x), dtype=torch.float32, device=self.device)

    @torch.no_grad()
    def _embed(self, view: int, x) -> np.ndarray:
        check_fitted(self, "model_", "fit(x_a, x_b)")
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
