"""The parts of D-MVAE (:mod:`mmc_lib.methods.generative.dmvae`): config, per-modality encoders/decoders, discriminators,
the vector denoiser, the mixture-of-Gaussians prior and the loss terms.

Three kinds of view, recognised from the array (:func:`view_kind`):

* ``features`` — ``(n, d)`` floats: MLP encoder, residual MLP decoder, Gaussian likelihood on standardised
  features, MLP discriminator, MLP denoiser;
* ``image`` — ``(n, C, H, H)`` floats in [0, 1]: small CNN encoder, residual transposed-CNN decoder, Bernoulli
  likelihood, PatchGAN discriminator, ``diffusers`` UNet denoiser;
* ``tokens`` — ``(n, L)`` integers: embedding + GRU encoder, residual MLP decoder to per-position logits,
  categorical likelihood; text gets no discriminator and no denoiser (its tokens are discrete).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.nn.diffusion import DiffusionConfig, conditional_unet

KINDS = ("features", "image", "tokens")
POSTERIORS = ("poe", "moe")


@dataclass(frozen=True)
class DMVAEConfig:
    """Networks and the three-phase schedule of D-MVAE."""

    latent_dim: int = 16  # shared Gaussian latent z
    hidden: int = 256  # MLP / GRU width
    channels: tuple[int, ...] = (32, 64)  # CNN widths (two stride-2 convolutions: H must be divisible by 4)
    embed_dim: int = 16  # token embedding width
    vocab_size: int | None = None  # token ids must lie in [0, vocab_size); None: max id seen at fit + 1
    posterior: str = "poe"  # joint posterior: product ("poe") or mixture ("moe") of the modality experts
    batch_size: int = 128  # pairs per step
    lr: float = 1e-3  # Adam, every phase
    epochs_recon: int = 20  # phase 1: single-modal reconstruction
    epochs_align: int = 30  # phase 2: cross-modal alignment
    epochs_refine: int = 20  # phase 3: adversarial + diffusion refinement (encoders frozen)
    beta: float = 1.0  # weight of the KL terms
    consistency: float = 1.0  # weight of the symmetric KL between the modality posteriors (phase 2)
    cross: float = 1.0  # weight of cross-generation (decode each modality from the other's latent)
    adversarial: float = 0.05  # weight of the decoders' adversarial (hinge) loss in phase 3; 0 = off
    diffusion: DiffusionConfig = field(default_factory=lambda: DiffusionConfig(train_steps=1000, sample_steps=20))
    refine_strength: float = 0.3  # refinement starts from the decoded sample noised to t = strength·T (1 = noise)
    align_warmup: int = 5  # phase-2 epochs with the N(0, I) prior before the mixture prior is fitted and used
    unet_channels: tuple[int, ...] = (32, 64)  # denoiser UNet widths (image views)
    denoiser_hidden: int = 256  # denoiser MLP width (feature views)
    snapshot_rows: int = 500  # rows whose latents are kept at the end of each phase (t-SNE)
    divergence_limit: float = 1e8  # a loss beyond this (or NaN) stops training with an error


def view_kind(arr: np.ndarray) -> str:
    """``"image"`` for ``(n, C, H, W)``, ``"tokens"`` for integer ``(n, L)``, ``"features"`` for float ``(n, d)``."""
    if arr.ndim == 4:
        return "image"
    if arr.ndim == 2:
        return "tokens" if arr.dtype.kind in "iu" else "features"
    raise ValueError(f"a view must be (n, d) features, (n, L) integer tokens or (n, C, H, W) images; got shape "
                     f"{arr.shape}" + (" (add a channel axis to images: x[:, None])" if arr.ndim == 3 else ""))


# ------------------------------------------------------------------------------ networks
class ResidualMLP(nn.Module):
    """``x + W2 relu(W1 x)``: the residual block of the decoders."""

    def __init__(self, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, width))

    def forward(self, x):
        return F.leaky_relu(x + self.net(x), 0.2)


class ResidualConv(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return F.leaky_relu(x + self.net(x), 0.2)


class Encoder(nn.Module):
    """One modality → the Gaussian expert ``(μ, log σ²)`` of q(z | x_m)."""

    def __init__(self, kind: str, shape: tuple, cfg: DMVAEConfig, vocab: int | None = None):
        super().__init__()
        self.kind, h, two_l = kind, cfg.hidden, 2 * cfg.latent_dim
        if kind == "features":
            self.body = nn.Sequential(nn.Linear(shape[0], h), nn.LeakyReLU(0.2), nn.Linear(h, h), nn.LeakyReLU(0.2))
        elif kind == "image":
            c, side = shape[0], shape[1]
            c1, c2 = cfg.channels
            self.body = nn.Sequential(nn.Conv2d(c, c1, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c1, c2, 4, 2, 1),
                                      nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(c2 * (side // 4) ** 2, h),
                                      nn.LeakyReLU(0.2))
        else:
            self.embed = nn.Embedding(vocab, cfg.embed_dim)
            self.gru = nn.GRU(cfg.embed_dim, h, batch_first=True)
        self.head = nn.Linear(h, two_l)

    def forward(self, x):
        if self.kind == "tokens":
            _, last = self.gru(self.embed(x))  # (1, B, h): the GRU's state after the last character
            hidden = last[0]
        else:
            hidden = self.body(x)  # (B, h)
        mu, logvar = self.head(hidden).chunk(2, dim=1)  # (B, L) each
        return mu, logvar.clamp(-10, 10)


class Decoder(nn.Module):
    """z → the parameters of p(x_m | z): features (standardised means), image logits, or token logits."""

    def __init__(self, kind: str, shape: tuple, cfg: DMVAEConfig, vocab: int | None = None):
        super().__init__()
        self.kind, self.shape, h = kind, shape, cfg.hidden
        if kind == "image":
            c, side = shape[0], shape[1]
            c1, c2 = cfg.channels
            self.side4 = side // 4
            self.body = nn.Sequential(
                nn.Linear(cfg.latent_dim, c2 * self.side4 ** 2), nn.LeakyReLU(0.2),
                nn.Unflatten(1, (c2, self.side4, self.side4)),  # (B, c2, H/4, W/4)
                ResidualConv(c2), nn.ConvTranspose2d(c2, c1, 4, 2, 1), nn.LeakyReLU(0.2), ResidualConv(c1),
                nn.ConvTranspose2d(c1, c, 4, 2, 1))
        else:
            out = shape[0] if kind == "features" else shape[0] * vocab
            self.vocab = vocab
            self.body = nn.Sequential(nn.Linear(cfg.latent_dim, h), nn.LeakyReLU(0.2), ResidualMLP(h), ResidualMLP(h),
                                      nn.Linear(h, out))

    def forward(self, z):
        out = self.body(z)
        if self.kind == "tokens":
            return out.view(len(z), self.shape[0], self.vocab)  # (B, L, V) logits
        return out  # (B, d) means or (B, C, H, W) logits

    def mean(self, z):
        """The decoded sample: feature means, pixel probabilities, or the most likely token per position."""
        out = self(z)
        if self.kind == "image":
            return torch.sigmoid(out)
        if self.kind == "tokens":
            return out.argmax(-1)
        return out


def patch_discriminator(channels: int, widths: tuple[int, ...]) -> nn.Module:
    """PatchGAN (Isola et al. 2017): a real/fake logit per receptive-field patch, (B, 1, H/4, W/4)."""
    c1, c2 = widths
    return nn.Sequential(nn.Conv2d(channels, c1, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(c1, c2, 4, 2, 1),
                         nn.LeakyReLU(0.2), nn.Conv2d(c2, 1, 3, 1, 1))


def feature_discriminator(d: int, hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, 1))


class VectorDenoiser(nn.Module):
    """ε_θ(x_t, t | x̂, z) for feature vectors: the MLP twin of the image UNet (same call signature, so
    :func:`mmc_lib.nn.diffusion.diffusion_loss` and ``ddim_sample`` drive both). ``image_cond`` is the VAE's
    decoded vector x̂ (DiffuseVAE's condition), ``vector_cond`` the shared latent z."""

    def __init__(self, d: int, cond_dim: int, hidden: int):
        super().__init__()
        from diffusers.models.embeddings import TimestepEmbedding, Timesteps

        self.time_proj, self.time_embed = Timesteps(64, True, 0), TimestepEmbedding(64, hidden)
        self.inp = nn.Linear(2 * d + cond_dim, hidden)
        self.blocks = nn.ModuleList([ResidualMLP(hidden) for _ in range(3)])
        self.out = nn.Linear(hidden, d)

    def forward(self, x_t, t, image_cond=None, vector_cond=None):
        t = t.expand(len(x_t)) if t.dim() == 0 else t
        temb = self.time_embed(self.time_proj(t).to(x_t.dtype))  # (B, hidden)
        h = self.inp(torch.cat([x_t, image_cond, vector_cond], dim=1)) + temb
        for block in self.blocks:
            h = block(h + temb)
        return self.out(h)  # (B, d) predicted noise


def denoiser(kind: str, shape: tuple, cfg: DMVAEConfig) -> nn.Module:
    if kind == "image":
        return conditional_unet(shape[0], sample_size=shape[1], channels=cfg.unet_channels, image_cond=True,
                                cond_dim=cfg.latent_dim)
    return VectorDenoiser(shape[0], cfg.latent_dim, cfg.denoiser_hidden)


class MoGPrior(nn.Module):
    """p(z) = Σ_k π_k N(z; μ_k, diag σ_k²): one component per cluster (VaDE, Jiang et al. 2017)."""

    def __init__(self, k: int, d: int):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(k))
        self.mu = nn.Parameter(torch.randn(k, d))
        self.logvar = nn.Parameter(torch.zeros(k, d))

    def init_from(self, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
        """Start from a Gaussian mixture fitted to the latents (VaDE's initialisation)."""
        with torch.no_grad():
            self.logits.copy_(torch.as_tensor(np.log(np.maximum(weights, 1e-6)), dtype=torch.float32))
            self.mu.copy_(torch.as_tensor(means, dtype=torch.float32))
            self.logvar.copy_(torch.as_tensor(np.log(np.maximum(variances, 1e-6)), dtype=torch.float32))

    def log_joint(self, z):
        """log π_k + log N(z; μ_k, σ_k²) for every row and component, (B, K)."""
        diff = z[:, None, :] - self.mu[None]  # (B, K, L)
        log_n = -0.5 * (math.log(2 * math.pi) + self.logvar[None] + diff ** 2 / self.logvar.exp()[None]).sum(-1)
        return torch.log_softmax(self.logits, 0)[None] + log_n

    def responsibilities(self, z):
        """γ_k = p(k | z), (B, K)."""
        return torch.softmax(self.log_joint(z), dim=1)


# ------------------------------------------------------------------------------ posteriors and losses
def product_of_experts(mus, logvars):
    """PoE of Gaussian experts (Wu & Goodman 2018, MVAE eq. 5): precisions add, means are precision-weighted."""
    precision = torch.stack([(-lv).exp() for lv in logvars])  # (M, B, L)
    var = 1.0 / precision.sum(0)
    mu = var * (torch.stack(mus) * precision).sum(0)
    return mu, var.log()


def mixture_of_experts_sample(mus, logvars, generator=None):
    """A sample of the MoE posterior (Shi et al. 2019): each row takes one expert at random."""
    pick = torch.randint(len(mus), (len(mus[0]),), generator=generator).to(mus[0].device)
    mu = torch.stack(mus)[pick, torch.arange(len(pick))]
    logvar = torch.stack(logvars)[pick, torch.arange(len(pick))]
    return mu, logvar


def reparameterise(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator).to(mu.device)
    return mu + (0.5 * logvar).exp() * eps


def kl_standard(mu, logvar):
    """KL(N(μ, σ²) ‖ N(0, I)) per row, summed over the latent (Kingma & Welling 2014, appendix B)."""
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(1).mean()


def kl_gaussians(mu_p, logvar_p, mu_q, logvar_q):
    """KL(N_p ‖ N_q) for diagonal Gaussians, per row summed over the latent, mean over rows."""
    return 0.5 * (logvar_q - logvar_p + (logvar_p.exp() + (mu_p - mu_q) ** 2) / logvar_q.exp() - 1.0).sum(1).mean()


def kl_mog(prior: MoGPrior, mu, logvar, z):
    """VaDE's KL(q(z, c | x) ‖ p(z, c)) with γ = p(c | z) at the sample z (Jiang et al. 2017, eq. 12):

    ``½ Σ_c γ_c Σ_d [log σ²_cd + σ²_d / σ²_cd + (μ_d − μ_cd)² / σ²_cd]``
    ``− Σ_c γ_c log(π_c / γ_c) − ½ Σ_d (1 + log σ²_d)``.
    """
    gamma = prior.responsibilities(z)  # (B, K)
    lv_c = prior.logvar[None]  # (1, K, L)
    term = (lv_c + logvar.exp()[:, None] / lv_c.exp() + (mu[:, None] - prior.mu[None]) ** 2 / lv_c.exp()).sum(-1)
    log_pi = torch.log_softmax(prior.logits, 0)[None]
    kl = 0.5 * (gamma * term).sum(1) - (gamma * (log_pi - torch.log(gamma + 1e-10))).sum(1) \
        - 0.5 * (1.0 + logvar).sum(1)
    return kl.mean()


def nll(decoder: Decoder, z, x):
    """−log p(x | z) per row (summed over the modality's elements), mean over rows."""
    out = decoder(z)
    if decoder.kind == "image":
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").flatten(1).sum(1).mean()
    if decoder.kind == "tokens":
        return F.cross_entropy(out.transpose(1, 2), x, reduction="none").sum(1).mean()
    return 0.5 * ((out - x) ** 2).sum(1).mean()  # unit-variance Gaussian on standardised features


def hinge_d(d_real, d_fake):
    """The discriminator's hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def hinge_g(d_fake):
    return -d_fake.mean()
