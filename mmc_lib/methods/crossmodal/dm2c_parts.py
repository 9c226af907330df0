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

from dataclasses import dataclass, replace
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
    # --- where the authors' code (jiangyangby/DM2C @ 72230ba) differs; the defaults are our design (see authors())
    block_order: str = "bn-act"  # Linear → BatchNorm → LeakyReLU; the authors: Linear → LeakyReLU → BatchNorm
    decoder_output_act: bool = False  # the authors end each decoder with a LeakyReLU
    translator: str = "mlp"  # "mlp": latent → gen_hidden → latent; "autoencoder": the authors' 6-layer AE
    lambda_input_cycle: float = 0.0  # weight of the input-space cycle reconstruction (the authors: 1, not in eq. 4)
    critic_counter: str = "global"  # critic step every critic_every generator steps, counted globally / per epoch
    critic_scaled: bool = False  # the authors multiply the critic loss by λ3 (lambda_adv)
    lr_pretrain_b: float | None = None  # pretraining lr of modality B (None: lr_pretrain; the authors' text: 1e-5)
    pretrain_weight_decay: float = 0.0  # Adam weight decay while pretraining (the authors: 1e-4)

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "pretrain_epochs": 0, "epochs": 1, "batch_size": 4,
                                     "critic_every": 1, "kmeans_n_init": 1})
        choices = {"block_order": ("bn-act", "act-bn"), "translator": ("mlp", "autoencoder"),
                   "critic_counter": ("global", "epoch")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"DM2CConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def authors(cls, **overrides) -> DM2CConfig:
        """The authors' Wikipedia setting, point by point (code at 72230ba, README commands): autoencoders
        d → 1024 → 256 → 128 with Linear → LeakyReLU → BatchNorm and a LeakyReLU output; translators are 6-layer
        autoencoders 128 → 128 → 256 → 128 → 256 → 128 → 128 ending in LeakyReLU; the input-space cycle
        reconstruction term; a critic step every 5 generator steps counted per epoch, its loss scaled by λ3;
        pretraining 150 epochs, Adam lr 1e-4 (image) / 1e-5 (text), weight decay 1e-4; joint 220 epochs."""
        base = cls(hidden=(1024, 256), latent_dim=128, gen_hidden=(128, 256, 128), pretrain_epochs=150, epochs=220,
                   lr_pretrain=1e-4, lr_pretrain_b=1e-5, pretrain_weight_decay=1e-4, block_order="act-bn",
                   decoder_output_act=True, translator="autoencoder", lambda_input_cycle=1.0,
                   critic_counter="epoch", critic_scaled=True)
        return replace(base, **overrides)


class ModalityAE(nn.Module):
    """Fully connected autoencoder for one modality, ``d → hidden → latent → hidden → d``."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], latent_dim: int, *, order: str = "bn-act",
                 output_act: bool = False):
        super().__init__()
        self.encoder = mlp([in_dim, *hidden, latent_dim], batchnorm=True, activation="leaky_relu", order=order)
        self.decoder = mlp([latent_dim, *reversed(hidden), in_dim], batchnorm=True, activation="leaky_relu",
                           order=order, final_activation=output_act, final_batchnorm=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)  # (B, latent)
        return self.decoder(z), z  # (B, d), (B, latent)


def generator(latent_dim: int, hidden: tuple[int, ...], config: DM2CConfig | None = None) -> nn.Module:
    """A cross-modal mapping between latent spaces: ``latent → hidden → latent`` (ours), or the authors'
    autoencoder ``latent → hidden… → latent`` whose DECODED output is the translation (``translator="autoencoder"``)."""
    if config is not None and config.translator == "autoencoder":
        ae = ModalityAE(latent_dim, tuple(hidden[:-1]), hidden[-1], order=config.block_order, output_act=True)
        return nn.Sequential(ae.encoder, ae.decoder)
    return mlp([latent_dim, *hidden, latent_dim], batchnorm=True, activation="leaky_relu")


def critic(latent_dim: int) -> nn.Sequential:
    """WGAN critic on a latent space, ``latent → latent/4 → 1`` (the official width), no BatchNorm."""
    return mlp([latent_dim, max(2, latent_dim // 4), 1], batchnorm=False, activation="leaky_relu")


class DM2CNets(nn.Module):
    """All six networks of DM2C in one module (so one ``state_dict`` holds the model)."""

    def __init__(self, d_a: int, d_b: int, config: DM2CConfig):
        super().__init__()
        ae = {"order": config.block_order, "output_act": config.decoder_output_act}
        self.ae_a = ModalityAE(d_a, config.hidden, config.latent_dim, **ae)
        self.ae_b = ModalityAE(d_b, config.hidden, config.latent_dim, **ae)
        self.g_ab = generator(config.latent_dim, config.gen_hidden, config)  # latent A → latent B
        self.g_ba = generator(config.latent_dim, config.gen_hidden, config)  # latent B → latent A
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
                     lambda_adv: float, lambda_rec: float, lambda_input_cycle: float = 0.0) -> dict[str, torch.Tensor]:
    """Loss terms minimised by the autoencoders and generators (the min side of eq. 4).

    ``adv`` is the generators' part of eq. 3, ``-E[D_A(G_BA(z_b))] - E[D_B(G_AB(z_a))]``;
    the ``E[D(z)]`` terms on real latents are left to the critic, as in the official code.
    ``lambda_input_cycle > 0`` adds the official code's input-space cycle reconstruction
    ``‖x_a - Dec_A(G_BA(G_AB(z_a)))‖² + ‖x_b - Dec_B(G_AB(G_BA(z_b)))‖²`` (not part of eq. 4).

    >>> nets = DM2CNets(5, 3, DM2CConfig(hidden=(8,), latent_dim=4, gen_hidden=(4,)))
    >>> x_a, x_b = torch.rand(6, 5), torch.rand(4, 3)
    >>> losses = generator_losses(nets, x_a, x_b, forward(nets, x_a, x_b), lambda_cyc=1.0, lambda_adv=0.5,
    ...                           lambda_rec=1.0)
    >>> sorted(losses)
    ['adv', 'cyc_a', 'cyc_b', 'rec_a', 'rec_b', 'total']
    """
    back_a, back_b = nets.g_ba(out.a_to_b), nets.g_ab(out.b_to_a)  # z_a → B → A, z_b → A → B
    losses = {
        "rec_a": F.mse_loss(out.rec_a, x_a),  # eq. 1
        "rec_b": F.mse_loss(out.rec_b, x_b),
        "cyc_a": F.l1_loss(back_a, out.z_a),  # eq. 2, ||z_a - G_BA(G_AB(z_a))||_1
        "cyc_b": F.l1_loss(back_b, out.z_b),
        "adv": -nets.d_a(out.b_to_a).mean() - nets.d_b(out.a_to_b).mean(),  # eq. 3, generator side
    }
    losses["total"] = (lambda_adv * losses["adv"] + lambda_cyc * (losses["cyc_a"] + losses["cyc_b"])
                       + lambda_rec * (losses["rec_a"] + losses["rec_b"]))  # eq. 4
    if lambda_input_cycle > 0:  # the official code's extra term
        losses["input_cyc"] = (F.mse_loss(nets.ae_a.decoder(back_a), x_a)
                               + F.mse_loss(nets.ae_b.decoder(back_b), x_b))
        losses["total"] = losses["total"] + lambda_input_cycle * losses["input_cyc"]
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
