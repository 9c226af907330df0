"""The parts of DM2C (Jiang et al., NeurIPS 2019): config, networks and loss terms.

* modality-specific autoencoders ``Enc_A/Dec_A``, ``Enc_B/Dec_B`` (eq. 1),
* cross-modal generators ``G_AB``, ``G_BA`` between the two latent spaces (eq. 2),
* WGAN critics ``D_A``, ``D_B`` in the latent spaces (eq. 3).

Every layer block is ``Linear → BatchNorm → LeakyReLU(0.2)`` (the critics drop
BatchNorm: a WGAN critic must score each sample on its own). Losses come back as
a dict of named tensors plus ``"total"`` so an ablation switches a term off by
setting its weight to zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.nn import mlp
from mmc_lib.validation import check_config


@dataclass(frozen=True)
class DM2CConfig:
    """Architecture and schedule; defaults follow the official README where it is clear."""

    hidden: tuple[int, ...] = (256,)  # autoencoder hidden widths (decoder mirrors them)
    latent_dim: int = 64  # shared latent width of both modalities (official: 128 for 2048-d inputs)
    gen_hidden: tuple[int, ...] = (128,)  # generator hidden widths (latent → hidden → latent)
    pretrain_epochs: int = 200  # reconstruction-only epochs per autoencoder (official README: 150 for Wikipedia)
    epochs: int = 220  # joint adversarial epochs (official README: 220)
    batch_size: int = 128  # mixed batch size, both modalities together (official: 128)
    lr_pretrain: float = 1e-4  # Adam(0.5, 0.999) during pretraining (official img: 1e-4)
    lr_ae: float = 1e-4  # RMSprop, autoencoders in the joint phase (official --lr_g 1e-4)
    lr_gen: float = 5e-4  # RMSprop, generators in the joint phase (official --lr_ae 5e-4)
    lr_critic: float = 5e-5  # RMSprop, critics (official --lr_d 5e-5)
    clip_value: float = 0.05  # WGAN weight clipping bound (official --clip_value)
    critic_every: int = 5  # one critic step per this many generator steps (official update_d_freq)
    lambda_rec: float = 1.0  # λ2 of eq. 4
    kmeans_n_init: int = 20  # k-means restarts on the unified latents (official: 20)
    monitor_every: int = 0  # with labels passed to fit: k-means ACC/NMI every this many epochs (0: never)
    divergence_limit: float = 1e6  # a loss term beyond this (or NaN/inf) stops training with an error

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "pretrain_epochs": 0, "epochs": 1, "batch_size": 4,
                                     "critic_every": 1, "kmeans_n_init": 1})


class ModalityAE(nn.Module):
    """Fully connected autoencoder for one modality, ``d → hidden → latent → hidden → d``."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.encoder = mlp([in_dim, *hidden, latent_dim], batchnorm=True, activation="leaky_relu")
        self.decoder = mlp([latent_dim, *reversed(hidden), in_dim], batchnorm=True, activation="leaky_relu")

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)  # (B, latent)
        return self.decoder(z), z  # (B, d), (B, latent)


def generator(latent_dim: int, hidden: tuple[int, ...]) -> nn.Sequential:
    """A cross-modal mapping between latent spaces, ``latent → hidden → latent``."""
    return mlp([latent_dim, *hidden, latent_dim], batchnorm=True, activation="leaky_relu")


def critic(latent_dim: int) -> nn.Sequential:
    """WGAN critic on a latent space, ``latent → latent/4 → 1`` (the official width), no BatchNorm."""
    return mlp([latent_dim, max(2, latent_dim // 4), 1], batchnorm=False, activation="leaky_relu")


class DM2CNets(nn.Module):
    """All six networks of DM2C in one module (so one ``state_dict`` holds the model)."""

    def __init__(self, d_a: int, d_b: int, config: DM2CConfig):
        super().__init__()
        self.ae_a = ModalityAE(d_a, config.hidden, config.latent_dim)
        self.ae_b = ModalityAE(d_b, config.hidden, config.latent_dim)
        self.g_ab = generator(config.latent_dim, config.gen_hidden)  # latent A → latent B
        self.g_ba = generator(config.latent_dim, config.gen_hidden)  # latent B → latent A
        self.d_a = critic(config.latent_dim)  # real A latents vs G_BA(z_b)
        self.d_b = critic(config.latent_dim)  # real B latents vs G_AB(z_a)

    def generator_parameters(self):
        return [*self.g_ab.parameters(), *self.g_ba.parameters()]

    def ae_parameters(self):
        return [*self.ae_a.parameters(), *self.ae_b.parameters()]

    def critic_parameters(self):
        return [*self.d_a.parameters(), *self.d_b.parameters()]


class Forward(NamedTuple):
    """One forward pass of the autoencoders and generators on a mixed batch."""

    rec_a: torch.Tensor  # (Ba, d_a) Dec_A(Enc_A(x_a))
    rec_b: torch.Tensor  # (Bb, d_b)
    z_a: torch.Tensor  # (Ba, L) Enc_A(x_a)
    z_b: torch.Tensor  # (Bb, L)
    a_to_b: torch.Tensor  # (Ba, L) G_AB(z_a), a fake in B's latent space
    b_to_a: torch.Tensor  # (Bb, L) G_BA(z_b), a fake in A's latent space


def forward(nets: DM2CNets, x_a: torch.Tensor, x_b: torch.Tensor) -> Forward:
    """Encode, reconstruct and translate both modalities' batches."""
    rec_a, z_a = nets.ae_a(x_a)
    rec_b, z_b = nets.ae_b(x_b)
    return Forward(rec_a, rec_b, z_a, z_b, nets.g_ab(z_a), nets.g_ba(z_b))


def generator_losses(nets: DM2CNets, x_a: torch.Tensor, x_b: torch.Tensor, out: Forward, *, lambda_cyc: float,
                     lambda_adv: float, lambda_rec: float) -> dict[str, torch.Tensor]:
    """Loss terms minimised by the autoencoders and generators (the min side of eq. 4).

    ``adv`` is the generators' part of eq. 3, ``-E[D_A(G_BA(z_b))] - E[D_B(G_AB(z_a))]``;
    the ``E[D(z)]`` terms on real latents are left to the critic, as in the official code.

    >>> nets = DM2CNets(5, 3, DM2CConfig(hidden=(8,), latent_dim=4, gen_hidden=(4,)))
    >>> x_a, x_b = torch.rand(6, 5), torch.rand(4, 3)
    >>> losses = generator_losses(nets, x_a, x_b, forward(nets, x_a, x_b), lambda_cyc=1.0, lambda_adv=0.5,
    ...                           lambda_rec=1.0)
    >>> sorted(losses)
    ['adv', 'cyc_a', 'cyc_b', 'rec_a', 'rec_b', 'total']
    """
    losses = {
        "rec_a": F.mse_loss(out.rec_a, x_a),  # eq. 1
        "rec_b": F.mse_loss(out.rec_b, x_b),
        "cyc_a": F.l1_loss(nets.g_ba(out.a_to_b), out.z_a),  # eq. 2, ||z_a - G_BA(G_AB(z_a))||_1
        "cyc_b": F.l1_loss(nets.g_ab(out.b_to_a), out.z_b),
        "adv": -nets.d_a(out.b_to_a).mean() - nets.d_b(out.a_to_b).mean(),  # eq. 3, generator side
    }
    losses["total"] = (lambda_adv * losses["adv"] + lambda_cyc * (losses["cyc_a"] + losses["cyc_b"])
                       + lambda_rec * (losses["rec_a"] + losses["rec_b"]))  # eq. 4
    return losses


def critic_losses(nets: DM2CNets, out: Forward) -> dict[str, torch.Tensor]:
    """The critics' side of eq. 3 as a loss to minimise: ``E[D(fake)] - E[D(real)]`` per latent space.

    Latents are detached: the critic step moves only the critics. The negative of
    ``total`` estimates the summed Wasserstein-1 distances between real and
    translated latents (up to the Lipschitz constant that clipping enforces).
    """
    z_a, z_b, a_to_b, b_to_a = (t.detach() for t in (out.z_a, out.z_b, out.a_to_b, out.b_to_a))
    losses = {"critic_a": nets.d_a(b_to_a).mean() - nets.d_a(z_a).mean(),
              "critic_b": nets.d_b(a_to_b).mean() - nets.d_b(z_b).mean()}
    losses["total"] = losses["critic_a"] + losses["critic_b"]
    return losses


def clip_weights(module: nn.Module, bound: float) -> None:
    """WGAN weight clipping (Arjovsky et al. 2017): keeps the critic roughly Lipschitz."""
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-bound, bound)
