"""EAMC (Zhou & Shen, "End-to-end adversarial-attention network for multi-modal clustering", CVPR 2020).

Per-view encoders ``z^v = f_v(x^v)``; a discriminator per view ``v ≥ 1`` learns to tell ``z^0`` ("real") from
``z^v`` ("fake") while the encoders learn to fool it (adversarial alignment of the latent distributions); an
attention net turns the concatenated ``z`` into view weights ``w = mean_batch softmax(sigmoid(a(z)) / τ)``;
the fused ``Σ_v w_v z^v`` goes through the DDC clustering head and a divergence-based clustering loss.

We follow the re-implementation of Trosten et al. (DanielTrosten/mvc, ``src/eamc/``, "based on code sent to
us by the original authors") for every setting the paper leaves open:

* generator objective ``ddc1 + ddc2_flipped + ddc3 + att + γ·gen`` (γ = 10):
  ``ddc1``/``ddc3`` as in DDC (:mod:`mmc_lib.losses.ddc`), ``ddc2_flipped = 2/(K(K-1)) triu(AᵀA)``
  (orthogonal *clusters* instead of DDC's orthogonal samples), ``att = ||K_fused − Σ_v w_v K_v||²_F`` on
  Gaussian kernels of the fused and per-view latents, ``gen = Σ_{v≥1} BCE(D_v(z^v), 1)``;
* discriminator objective ``disc = Σ_{v≥1} BCE(D_v(z^v), 0) + BCE(D_v(z^0), 1)``;
* batches alternate between a generator step and a discriminator step (``t = t_disc = 1``);
* encoders ``Linear→ReLU`` (200, 200, 500), no BatchNorm; attention net (100, 50) without activations;
  discriminators (256, 256, 128) with LeakyReLU(0.2) and a sigmoid output; He-normal weights;
* Adam with lr 1e-5 (encoders, clustering head), 1e-4 (attention), betas (0.95, 0.999); discriminators
  lr 1e-3, betas (0.5, 0.999); generator gradients clipped to norm 0.5; 500 epochs of batches of 100.

How it sits on the shared loop (:func:`mmc_lib.nn.train`): Adam is per-parameter, so ONE Adam with four
parameter groups (each with the reference's lr and betas) updates exactly like the reference's two Adams as
long as each step gives gradients to one side only. The batch iterator tags batches ``gen``/``disc``
alternately; a generator step sees the discriminators as constants (``functional_call`` on detached
weights), a discriminator step sees detached latents. Parameters without a gradient are skipped by Adam, and
the gradient clipping is an optimiser step pre-hook over the generator's parameters (none have gradients on
a discriminator step). This reads better than two optimisers stepping inside a loss function, and keeps the
one loop doing every backward/step.

Deviations from the reference code (each is small; named as the conventions ask):

* the reference clips the norm of *all* parameters' gradients on generator steps, including the
  discriminators' (which the generator loss reaches there); we freeze the discriminators on generator steps,
  so their gradients neither enter the norm nor exist;
* the reference runs the whole network on discriminator batches, so the DDC head's BatchNorm running
  statistics also move there; ours runs only encoders and discriminators on those batches;
* model selection: the reference trains 20 runs and keeps the lowest total loss; we keep
  ``n_restarts`` (default 1) runs by the lowest final generator objective (never labels), last epoch;
* the paper's CNN encoders for image data are not used: every view is a feature vector here, and the MLP
  backbone is the one Trosten et al. use for vector views (their RGB-D experiment).

The paper itself was not available to us as text; equation numbers are therefore not cited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from mmc_lib.losses.ddc import cs_divergence, gaussian_kernel, squared_distances, triu_sum
from mmc_lib.methods.base import DeepEstimator, Run
from mmc_lib.nn import DDCHead, Hooks, adam, minibatches, mlp, train
from mmc_lib.validation import check_config

__all__ = ["EAMCConfig", "EAMC", "attention_kernel_loss", "ddc2_flipped"]


@dataclass(frozen=True)
class EAMCConfig:
    """EAMC networks and schedule (defaults: Trosten et al.'s EAMC re-implementation)."""

    hidden: tuple[int, ...] = (200, 200, 500)  # encoder widths, Linear→ReLU each; the last is the latent size
    attention_hidden: tuple[int, ...] = (100, 50)  # attention net widths (linear layers, no activation)
    attention_tau: float = 10.0  # softmax temperature of the attention weights
    disc_hidden: tuple[int, ...] = (256, 256, 128)  # discriminator widths, Linear→LeakyReLU(0.2) each
    ddc_hidden: int = 100  # DDC head hidden units
    rel_sigma: float = 0.15  # Gaussian kernels: σ² = rel_sigma · median squared distance
    gamma: float = 10.0  # weight of the generator (adversarial) loss
    epochs: int = 500  # passes over the data (half the batches train the generator, half the discriminators)
    batch_size: int = 100  # rows per step
    lr_encoders: float = 1e-5  # Adam lr of the encoders
    lr_head: float = 1e-5  # Adam lr of the DDC head
    lr_attention: float = 1e-4  # Adam lr of the attention net
    lr_disc: float = 1e-3  # Adam lr of the discriminators
    beta1_gen: float = 0.95  # Adam β1 of encoders, head and attention (β2 = 0.999)
    beta1_disc: float = 0.5  # Adam β1 of the discriminators (β2 = 0.999)
    clip_norm: float = 0.5  # max gradient norm on generator steps
    n_restarts: int = 1  # runs per seed; the lowest final generator objective wins (the reference uses 20)

    def __post_init__(self):
        check_config(self, at_least={"attention_tau": 1e-12, "ddc_hidden": 1, "rel_sigma": 1e-12, "gamma": 0,
                                     "epochs": 1, "batch_size": 4, "lr_encoders": 0, "lr_head": 0,
                                     "lr_attention": 0, "lr_disc": 0, "beta1_gen": 0, "beta1_disc": 0,
                                     "clip_norm": 1e-12, "n_restarts": 1})
        if not self.hidden:
            raise ValueError("EAMCConfig.hidden needs at least one width (the last is the latent size)")


# ---------------------------------------------------------------------------------------------- loss terms
def ddc2_flipped(a: torch.Tensor) -> torch.Tensor:
    """EAMC's orthogonality term on *clusters*: ``2/(K(K-1)) Σ_{i<j} a_{:i}ᵀ a_{:j}`` for assignments ``a`` (B, K).

    >>> round(float(ddc2_flipped(torch.tensor([[1., 0.], [0., 1.]]))), 6)  # disjoint clusters
    0.0
    >>> round(float(ddc2_flipped(torch.tensor([[.5, .5], [.5, .5]]))), 6)  # every row shared: 2·(.25+.25)/2
    0.5
    """
    k = a.shape[1]
    return 2.0 / (k * (k - 1)) * triu_sum(a.t() @ a)  # (K, K) Gram matrix of the cluster columns


def attention_kernel_loss(fused: torch.Tensor, latents: list[torch.Tensor], weights: torch.Tensor, *,
                          rel_sigma: float = 0.15) -> torch.Tensor:
    """``||K(fused) − Σ_v w_v K(z^v)||²_F``: the fused kernel should be the attention-weighted view kernels.

    >>> z = torch.randn(6, 3)
    >>> abs(float(attention_kernel_loss(z, [z, z], torch.tensor([.3, .7])))) < 1e-10  # identical views: nothing to fix
    True
    """
    view_kernels = torch.stack([gaussian_kernel(z, rel_sigma=rel_sigma) for z in latents], dim=-1)  # (B, B, V)
    diff = gaussian_kernel(fused, rel_sigma=rel_sigma) - (view_kernels * weights).sum(-1)  # (B, B)
    return (diff ** 2).sum()


def _bce_all(probs: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy(probs.squeeze(1), torch.full((len(probs),), target, device=probs.device))


# ---------------------------------------------------------------------------------------------- network
class _Discriminator(nn.Module):
    def __init__(self, d_in: int, widths: tuple[int, ...]):
        super().__init__()
        layers = mlp([d_in, *widths], batchnorm=False, activation="leaky_relu", final_activation=True)
        self.net = nn.Sequential(*layers, nn.Linear(widths[-1] if widths else d_in, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, 1) probability that z comes from view 0


class EAMCNet(nn.Module):
    """Encoders, attention fusion, DDC head and one discriminator per view after the first (inputs validated)."""

    def __init__(self, dims: list[int], k: int, cfg: EAMCConfig):
        super().__init__()
        self.cfg = cfg
        latent = cfg.hidden[-1]
        self.encoders = nn.ModuleList(mlp([d, *cfg.hidden], batchnorm=False, final_activation=True) for d in dims)
        widths = [len(dims) * latent, *cfg.attention_hidden, len(dims)]
        self.attention = nn.Sequential(*(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])))
        self.head = DDCHead(latent, k, hidden=cfg.ddc_hidden)
        self.discriminators = nn.ModuleList(_Discriminator(latent, cfg.disc_hidden) for _ in dims[1:])
        for module in self.modules():  # He initialisation, as the reference
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight)

    def param_groups(self) -> list[dict]:
        """The reference's optimiser settings, one group per component; the discriminators' group is last."""
        c = self.cfg
        gen = (c.beta1_gen, 0.999)
        return [{"params": list(self.encoders.parameters()), "lr": c.lr_encoders, "betas": gen},
                {"params": list(self.head.parameters()), "lr": c.lr_head, "betas": gen},
                {"params": list(self.attention.parameters()), "lr": c.lr_attention, "betas": gen},
                {"params": list(self.discriminators.parameters()), "lr": c.lr_disc, "betas": (c.beta1_disc, 0.999)}]

    def generator_parameters(self) -> list[nn.Parameter]:
        return [p for group in self.param_groups()[:-1] for p in group["params"]]

    def _fuse(self, z: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.attention(torch.cat(z, dim=1))  # (B, V)
        w = torch.softmax(torch.sigmoid(scores) / self.cfg.attention_tau, dim=1).mean(0)  # (V,) batch-mean weights
        return (w[:, None, None] * torch.stack(z)).sum(0), w  # (B, latent), (V,)

    def represent(self, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        fused, _ = self._fuse([enc(x) for enc, x in zip(self.encoders, views)])
        return fused, self.head(fused)[1]

    def generator_losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Clustering, attention and fooling terms; the discriminators enter as constants (no gradient to them)."""
        z = [enc(x) for enc, x in zip(self.encoders, views)]
        fused, w = self._fuse(z)
        hidden, a = self.head(fused)
        kernel = gaussian_kernel(hidden, rel_sigma=self.cfg.rel_sigma)  # (B, B)
        corners = torch.exp(-squared_distances(a, torch.eye(a.shape[1], device=a.device)))  # (B, K)
        terms = {"ddc1": cs_divergence(a, kernel), "ddc2_flipped": ddc2_flipped(a), "ddc3": cs_divergence(corners, kernel),
                 "att": attention_kernel_loss(fused, z, w, rel_sigma=self.cfg.rel_sigma)}
        fooled = 0.0
        for disc, zv in zip(self.discriminators, z[1:]):
            frozen = {name: p.detach() for name, p in disc.named_parameters()}
            fooled = fooled + _bce_all(functional_call(disc, frozen, (zv,)), 1.0)  # view v poses as view 0
        terms["gen"] = self.cfg.gamma * fooled
        terms["objective"] = terms["total"] = sum(terms.values())
        return terms

    def discriminator_losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Each discriminator separates view 0 (real, 1) from its view (fake, 0); latents are constants here."""
        with torch.no_grad():
            z = [enc(x) for enc, x in zip(self.encoders, views)]
        disc = sum(_bce_all(d(zv), 0.0) + _bce_all(d(z[0]), 1.0) for d, zv in zip(self.discriminators, z[1:]))
        return {"disc": disc, "total": disc}


def _alternating(batches: Iterator[torch.Tensor]) -> Iterator[tuple[torch.Tensor, str]]:
    """Tag batches ``gen``, ``disc``, ``gen``, … (the reference's ``t = t_disc = 1``)."""
    for i, idx in enumerate(batches):
        yield idx, ("gen" if i % 2 == 0 else "disc")


# ---------------------------------------------------------------------------------------------- estimator
class EAMC(DeepEstimator):
    """End-to-end adversarial-attention multi-modal clustering.

    Parameters
    ----------
    n_clusters : int
    seed : int
    device : str
    config : EAMCConfig, optional
        Defaults to :class:`EAMCConfig` (the reference settings); keyword overrides replace its fields.

    ``history_`` holds per epoch ``objective`` (the generator loss, mean over generator batches), its terms,
    ``disc`` (mean over discriminator batches) and ``total`` (the back-propagated loss over all batches).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> EAMC(2, hidden=(8,), epochs=2, batch_size=20).fit_predict(views).shape
    (80,)
    """

    def __init__(self, n_clusters: int, *, seed: int = 0, device: str = "cpu", config: EAMCConfig | None = None,
                 snapshot_epochs: tuple[int, ...] = (), **overrides):
        super().__init__(n_clusters, config=config, seed=seed, device=device, **overrides)
        self.snapshot_epochs = snapshot_epochs

    config_class = EAMCConfig

    def _train(self, tensors, k: int, config: EAMCConfig, generator: torch.Generator, y) -> Run:
        """Alternating generator / discriminator steps on the shared loop (inputs already validated)."""
        model = EAMCNet([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        optimiser = adam(model.param_groups(), config=config)
        gen_params = model.generator_parameters()

        def clip_generator(*_) -> None:  # no-op on discriminator steps: the generator has no gradients then
            nn.utils.clip_grad_norm_([p for p in gen_params if p.grad is not None], config.clip_norm)

        optimiser.register_step_pre_hook(clip_generator)
        n, device = tensors[0].shape[0], tensors[0].device

        def batches():
            return _alternating(minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True))

        def loss_fn(batch, epoch):
            idx, role = batch
            rows = [t[idx] for t in tensors]
            return model.generator_losses(rows) if role == "gen" else model.discriminator_losses(rows)

        snapshots: dict[int, np.ndarray] = {}
        on_epoch = self._monitor(model, tensors, k, config, y, snapshot_epochs=self.snapshot_epochs, snapshots=snapshots)
        history = train(loss_fn, optimiser, batches, config.epochs, module=model, hooks=Hooks(on_epoch=on_epoch))
        return Run(model, history, {"snapshots_": snapshots})
