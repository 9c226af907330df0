"""DM2C — deep mixed-modal clustering (Jiang, Xu, Yang, Cao & Huang, NeurIPS 2019).

Every sample is seen in ONE modality and nothing pairs the two sets. DM2C

1. pretrains one autoencoder per modality on reconstruction (eq. 1; Adam),
2. trains cross-modal generators ``G_AB``, ``G_BA`` between the latent spaces with
   the latent cycle-consistency loss (eq. 2) and WGAN critics ``D_A``, ``D_B``
   (eq. 3), jointly with the autoencoders, alternating generator and critic
   updates (eq. 4; RMSprop, as the official WGAN setting),
3. maps every sample into modality A's latent space ("modality unifying":
   ``Enc_A(x_a)`` and ``G_BA(Enc_B(x_b))``) and clusters with k-means.

The critics are kept Lipschitz by **weight clipping** (±0.05), as in the official
code: it is the setting the published numbers come from, and it needs no second
backward pass (a gradient penalty would double the cost of each critic step on CPU).

Deviations from the official code, on purpose: it runs on any device (the official
code hard-codes ``.cuda()``); ``n_clusters`` is always an argument (the official
NUS-WIDE branch never sets it). Our default networks are smaller and ordered
Linear → BatchNorm → LeakyReLU, our translators are ``latent → hidden → latent`` MLPs,
and the input-space "cycle reconstruction" term the official code adds (not part of
eq. 4) is off; ``DM2CConfig.authors()`` reproduces the official architecture and
schedule point by point, each difference a config field (``lambda_input_cycle`` is
also the ablation switch for that term).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from sklearn.cluster import KMeans

from mmc_lib.methods.crossmodal.dm2c_parts import (DM2CConfig, DM2CNets, clip_weights, critic_losses, forward,
                                        generator_losses)
from mmc_lib.nn import Hooks, adam, check_finite_losses, minibatches, mixed_batches, seeded, train
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_fitted, check_n_clusters

UNIFY = ("a", "b", "none")


def check_modality(x, name: str, *, n_features: int | None = None) -> np.ndarray:
    """One modality's samples as a finite float32 ``(n, d)`` array with at least one row; clear errors otherwise.

    >>> check_modality([[0.0, 1.0], [1.0, 0.0]], "x_a").shape
    (2, 2)
    >>> check_modality(np.zeros((0, 3)), "x_b")
    Traceback (most recent call last):
    ...
    ValueError: modality x_b has zero samples; DM2C needs samples in both modalities
    """
    if isinstance(x, (list, tuple)):
        widths = sorted({len(np.atleast_1d(row)) for row in x})
        if len(widths) > 1:
            raise ValueError(f"modality {name} mixes feature widths {widths}; every sample of a modality "
                             "needs the same number of features")
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"modality {name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"modality {name} has zero samples; DM2C needs samples in both modalities")

    if arr.shape[1] == 0:
        raise ValueError(f"modality {name} has zero features")
    if not np.isfinite(arr).all():
        raise ValueError(f"modality {name} contains {int((~np.isfinite(arr)).sum())} NaN/inf value(s)")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"modality {name} has {arr.shape[1]} features but the model was fitted with {n_features}")
    return arr


class DM2C:
    """Deep mixed-modal clustering of two unpaired modalities.

    Parameters
    ----------
    n_clusters : int
        Number of clusters ``k``.
    lambda_cyc : float
        λ1 of eq. 4, weight of the latent cycle-consistency loss (0 = ablation "no cycle").
    lambda_adv : float
        Weight of the adversarial loss (official ``--lamda3 0.5``; 0 = ablation "no adversarial",
        which also skips the critic updates).
    config : DM2CConfig, optional
        Architecture and schedule (default: the official schedule, ``DM2CConfig()``).
    unify : {"a", "b", "none"}
        Latent space everything is mapped into before k-means; ``"none"`` stacks each
        sample's own-modality latent (ablation "no translation").
    seed : int
        Seeds weights, mini-batch order and k-means; a fixed seed gives fixed numbers on CPU.
    device : str
        Torch device ("cpu", "cuda", ...).

    Attributes
    ----------
    labels_ : ndarray of shape (n_a + n_b,)
        Cluster of each row of ``x_a`` followed by each row of ``x_b``.
    history_ : list of dict
        Per joint epoch: mean of every loss term (and ``acc``/``nmi`` when monitored).
    pretrain_history_ : list of dict
        Per pretraining epoch: mean reconstruction losses.
    embedding_ : ndarray of shape (n_a + n_b, latent_dim)
        The unified latents that k-means clustered.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x_a, x_b = rng.random((40, 6)), rng.random((30, 4))
    >>> cfg = DM2CConfig(hidden=(8,), latent_dim=4, gen_hidden=(4,), pretrain_epochs=2, epochs=2, batch_size=32)
    >>> DM2C(3, config=cfg, seed=0).fit_predict(x_a, x_b).shape
    (70,)
    """

    def __init__(self, n_clusters: int, *, lambda_cyc: float = 1.0, lambda_adv: float = 0.5,
                 config: DM2CConfig | None = None, unify: str = "a", seed: int = 0, device: str = "cpu"):
        self.n_clusters = n_clusters
        self.lambda_cyc = lambda_cyc
        self.lambda_adv = lambda_adv
        self.config = config
        self.unify = unify
        self.seed = seed
        self.device = device

    # ------------------------------------------------------------------ public API
    @one_thread
    def fit(self, x_a, x_b, *, y=None) -> DM2C:
        """Train on the two modalities' samples; ``y`` (optional) is used only to log ACC/NMI per epoch."""
        x_a, x_b = check_modality(x_a, "x_a"), check_modality(x_b, "x_b")
        for name, x in (("x_a", x_a), ("x_b", x_b)):
            if len(x) < 2:
                raise ValueError(f"modality {name} has {len(x)} sample; DM2C trains on at least 2 per modality "
                                 "(BatchNorm needs 2 rows)")
        k = check_n_clusters(self.n_clusters, len(x_a) + len(x_b))
        if self.unify not in UNIFY:
            raise ValueError(f"unknown unify {self.unify!r}; known: {UNIFY}")
        for name in ("lambda_cyc", "lambda_adv"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if y is not None and len(y) != len(x_a) + len(x_b):
            raise ValueError(f"y has {len(y)} labels for {len(x_a) + len(x_b)} samples")
        cfg = self.config or DM2CConfig()
        self.n_features_ = (x_a.shape[1], x_b.shape[1])
        with seeded(self.seed) as gen:  # leaves the caller's global RNG untouched
            self.nets_ = DM2CNets(*self.n_features_, cfg).to(self.device)
            xa, xb = (torch.as_tensor(x, device=self.device) for x in (x_a, x_b))
            self.pretrain_history_ = _pretrain(self.nets_, xa, xb, cfg, gen)
            self.pretrained_ = copy.deepcopy(self.nets_).eval()  # the "before joint training" model
            self.history_ = _train_joint(self, xa, xb, cfg, gen, y)
        self.embedding_ = self.transform(x_a, x_b)
        self.kmeans_ = KMeans(k, n_init=cfg.kmeans_n_init, random_state=self.seed).fit(self.embedding_)
        self.labels_ = self.kmeans_.labels_.astype(np.int64)
        return self

    def fit_predict(self, x_a, x_b, *, y=None) -> np.ndarray:
        """Fit and return the cluster of each row of ``x_a`` followed by each row of ``x_b``."""
        return self.fit(x_a, x_b, y=y).labels_

    def transform(self, x_a, x_b, *, unify: str | None = None, pretrained: bool = False) -> np.ndarray:
        """Unified latents ``(n_a + n_b, latent_dim)``; ``pretrained=True`` uses the autoencoders before joint training."""
        self._check_fitted()
        x_a = check_modality(x_a, "x_a", n_features=self.n_features_[0])
        x_b = check_modality(x_b, "x_b", n_features=self.n_features_[1])
        unify = self.unify if unify is None else unify
        if unify not in UNIFY:
            raise ValueError(f"unknown unify {unify!r}; known: {UNIFY}")
        return _embed(self.pretrained_ if pretrained else self.nets_, x_a, x_b, unify, self.device)

    def predict(self, x_a, x_b) -> np.ndarray:
        """Clusters of new samples: unify them and assign each to the nearest fitted k-means centre."""
        self._check_fitted()
        return self.kmeans_.predict(self.transform(x_a, x_b)).astype(np.int64)

    def _check_fitted(self) -> None:
        check_fitted(self, "nets_", "fit(x_a, x_b)")


# ---------------------------------------------------------------------- training (inputs already validated)
def _pretrain(nets: DM2CNets, xa: torch.Tensor, xb: torch.Tensor, cfg: DM2CConfig,
              gen: torch.Generator) -> list[dict]:
    """Reconstruction-only pretraining of both autoencoders (eq. 1) on the shared trainer.

    Each epoch runs modality A's shuffled batches, then B's. Adam(β=(0.5, 0.999)) as the official code; one
    optimiser over both autoencoders equals one per autoencoder, since Adam keeps its state per parameter
    and skips parameters without a gradient. The history logs each reconstruction error averaged per row.
    """
    aes = {"a": (nets.ae_a, xa), "b": (nets.ae_b, xb)}

    def batches():  # A's batches, then B's (each modality reshuffled when its turn comes)
        for m, (_, x) in aes.items():
            for idx in minibatches(len(x), cfg.batch_size, generator=gen, device=x.device, drop_last=True):
                yield m, idx

    def loss_fn(batch, epoch):
        m, idx = batch
        ae, x = aes[m]
        loss = torch.nn.functional.mse_loss(ae(x[idx])[0], x[idx])
        return {f"rec_{m}": loss, "total": loss}

    groups = [{"params": list(nets.ae_a.parameters()), "lr": cfg.lr_pretrain},
              {"params": list(nets.ae_b.parameters()), "lr": cfg.lr_pretrain_b or cfg.lr_pretrain}]
    opt = adam(groups, betas=(0.5, 0.999), weight_decay=cfg.pretrain_weight_decay, config=cfg)
    history = train(loss_fn, opt, batches, cfg.pretrain_epochs, module=nets,
                    hooks=Hooks(batch_weight=lambda batch: len(batch[1])), limit=cfg.divergence_limit)
    return [{k: v for k, v in record.items() if k != "total"} for record in history]


def _train_joint(model: DM2C, xa: torch.Tensor, xb: torch.Tensor, cfg: DM2CConfig, gen: torch.Generator,
                 y) -> list[dict]:
    """Alternating generator / critic updates of eq. 4; returns per-epoch mean loss terms.

    The one loop outside the shared trainer: two optimisers take turns (a critic step every
    ``critic_every`` generator steps) and the critics are clipped after theirs. It draws its batches from
    the shared sampler (:func:`mmc_lib.nn.mixed_batches`) and its randomness from the fit's seeded generator.
    """
    nets = model.nets_
    opt_g = torch.optim.RMSprop([{"params": nets.ae_parameters(), "lr": cfg.lr_ae},
                                 {"params": nets.generator_parameters(), "lr": cfg.lr_gen}])
    opt_d = torch.optim.RMSprop(nets.critic_parameters(), lr=cfg.lr_critic)
    use_critic = model.lambda_adv > 0
    history, step = [], 0
    for epoch in range(1, cfg.epochs + 1):
        nets.train()
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        if cfg.critic_counter == "epoch":  # the official code counts generator steps per epoch
            step = 0
        for ia, ib in mixed_batches(len(xa), len(xb), cfg.batch_size, generator=gen):
            out = forward(nets, xa[ia], xb[ib])
            g_losses = generator_losses(nets, xa[ia], xb[ib], out, lambda_cyc=model.lambda_cyc,
                                        lambda_adv=model.lambda_adv, lambda_rec=cfg.lambda_rec,
                                        lambda_input_cycle=cfg.lambda_input_cycle)
            check_finite_losses(g_losses, epoch=epoch, limit=cfg.divergence_limit)
            opt_g.zero_grad()
            g_losses["total"].backward()
            opt_g.step()
            step += 1
            logged = {f"g_{k}" if k == "total" else k: float(v.detach()) for k, v in g_losses.items()}
            if use_critic and step % cfg.critic_every == 0:
                d_losses = critic_losses(nets, out)
                check_finite_losses(d_losses, epoch=epoch, limit=cfg.divergence_limit)
                opt_d.zero_grad()
                (d_losses["total"] * (model.lambda_adv if cfg.critic_scaled else 1.0)).backward()
                opt_d.step()
                clip_weights(nets.d_a, cfg.clip_value)
                clip_weights(nets.d_b, cfg.clip_value)
                logged["wasserstein"] = -float(d_losses["total"].detach())
            for k, v in logged.items():  # per-term means (the critic term over critic steps only)
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
        record = {"epoch": epoch, **{k: v / counts[k] for k, v in sums.items()}}
        if y is not None and cfg.monitor_every and ((epoch - 1) % cfg.monitor_every == 0 or epoch == cfg.epochs):
            record.update(_monitor(model, xa, xb, y, cfg))
        history.append(record)
    return history


def _monitor(model: DM2C, xa: torch.Tensor, xb: torch.Tensor, y, cfg: DM2CConfig) -> dict:
    """ACC / NMI of k-means on the current unified latents — logged for plots, never used to select anything."""
    from mmc_lib.metrics import accuracy, nmi

    emb = _embed(model.nets_, xa, xb, model.unify, model.device)
    pred = KMeans(model.n_clusters, n_init=3, random_state=model.seed).fit_predict(emb)
    return {"acc": accuracy(y, pred), "nmi": nmi(y, pred)}


@torch.no_grad()
def _embed(nets: DM2CNets, x_a, x_b, unify: str, device: str) -> np.ndarray:
    """Modality unifying: every sample's latent in one space, rows of ``x_a`` then ``x_b``."""
    was_training = nets.training
    nets.eval()
    xa, xb = (torch.as_tensor(np.asarray(x, dtype=np.float32), device=device) for x in (x_a, x_b))
    z_a, z_b = nets.ae_a.encoder(xa), nets.ae_b.encoder(xb)  # (n_a, L), (n_b, L)
    if unify == "a":
        z_b = nets.g_ba(z_b)  # B samples translated into A's latent space
    elif unify == "b":
        z_a = nets.g_ab(z_a)
    nets.train(was_training)
    emb = torch.cat([z_a, z_b]).cpu().numpy()
    if not np.isfinite(emb).all():
        raise FloatingPointError("DM2C produced non-finite latents; training diverged")
    return emb


def diverged(history: list[dict], *, factor: float = 1e3) -> bool:
    """True when a run exploded: a NaN/inf loss at the end, or reconstruction ``factor`` times its first value.

    Reconstruction is the yardstick because the adversarial term may legitimately
    change sign; an exploding autoencoder is what makes the translated latents useless.

    >>> diverged([{"g_total": 0.3, "rec_a": 0.01, "rec_b": 0.02}, {"g_total": -0.1, "rec_a": 0.01, "rec_b": 0.01}])
    False
    >>> diverged([{"g_total": 0.3, "rec_a": 0.01, "rec_b": 0.02}, {"g_total": float("nan"), "rec_a": 1, "rec_b": 1}])
    True
    """
    if not history:
        return False
    first, last = history[0], history[-1]
    if not all(math.isfinite(v) for v in last.values()):
        return True
    rec0, rec1 = first["rec_a"] + first["rec_b"], last["rec_a"] + last["rec_b"]
    return rec1 > factor * max(rec0, 1e-12)
