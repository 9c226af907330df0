"""Denoising diffusion (DDPM, Ho et al. 2020) on top of ``diffusers``: schedules, a small conditional UNet, the
ε-prediction loss and DDIM sampling (Song et al. 2021). One module, every user (D-MVAE's refinement, TreeDiffusion).

Forward process (DDPM eq. 4): ``x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε``; the network predicts ``ε`` and is trained
with ``‖ε - ε_θ(x_t, t, c)‖²`` (DDPM eq. 14, the "simple" loss). Conditions ``c``:

* ``image_cond`` — an image concatenated to ``x_t`` on the channel axis (DiffuseVAE: the VAE's reconstruction);
* ``vector_cond`` — a vector added to the timestep embedding (a latent code, or TreeDiffusion's summed path
  embeddings), through ``UNet2DModel(class_embed_type="identity")``.

Training aids of DDPM practice (Ho et al. 2020 §4; Nichol & Dhariwal 2021), each optional: a linear learning-rate
warm-up (:func:`warmup_schedule`), gradient-norm clipping, and an exponential moving average of the weights
(:class:`EMA`) from which one samples. The UNet's attention sits only at its lowest resolution (the mid block).

>>> unet = conditional_unet(1, sample_size=8, channels=(8, 16), image_cond=True, cond_dim=4)
>>> cfg = DiffusionConfig(train_steps=50, sample_steps=5)
>>> g = torch.Generator().manual_seed(0)
>>> x0, img, vec = torch.rand(3, 1, 8, 8), torch.rand(3, 1, 8, 8), torch.randn(3, 4)
>>> float(diffusion_loss(unet, x0, cfg, generator=g, image_cond=img, vector_cond=vec)) > 0
True
>>> tuple(ddim_sample(unet, (3, 1, 8, 8), cfg, generator=g, image_cond=img, vector_cond=vec).shape)
(3, 1, 8, 8)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DiffusionConfig:
    """Noise schedule and sampler."""

    train_steps: int = 1000  # T of the forward process (DDPM: 1000)
    beta_schedule: str = "linear"  # DDPM's linear β_1 = 1e-4 … β_T = 0.02
    sample_steps: int = 50  # DDIM steps at sampling time (deterministic, eta = 0)

    def noise_steps(self, strength: float) -> int:
        """How many of the ``train_steps`` noise levels a refinement of ``strength`` (0 < s ≤ 1) visits."""
        return max(1, int(round(strength * self.train_steps)))

    def ddpm(self):
        from diffusers import DDPMScheduler

        return DDPMScheduler(num_train_timesteps=self.train_steps, beta_schedule=self.beta_schedule,
                             prediction_type="epsilon")

    def ddim(self):
        from diffusers import DDIMScheduler

        scheduler = DDIMScheduler(num_train_timesteps=self.train_steps, beta_schedule=self.beta_schedule,
                                  prediction_type="epsilon", clip_sample=False)
        scheduler.set_timesteps(self.sample_steps)
        return scheduler


class ConditionalUNet(nn.Module):
    """``diffusers.UNet2DModel`` with a vector condition projected onto the timestep embedding.

    ``forward(x_t, t, image_cond=None, vector_cond=None) -> ε̂`` with ``x_t`` (B, C, H, W).
    """

    def __init__(self, channels_out: int, *, sample_size: int, channels: tuple[int, ...] = (32, 64),
                 image_cond: bool = False, cond_dim: int | None = None, layers_per_block: int = 1,
                 attention_head_dim: int = 8):
        super().__init__()
        from diffusers import UNet2DModel

        if sample_size % 2 ** (len(channels) - 1):
            raise ValueError(f"sample_size {sample_size} cannot be halved {len(channels) - 1} times (channels {channels})")
        self.image_cond, self.cond_dim = image_cond, cond_dim
        in_channels = channels_out * (2 if image_cond else 1)
        # plain resnet blocks at every level; self-attention only in the mid block, at the lowest resolution
        self.unet = UNet2DModel(
            sample_size=sample_size, in_channels=in_channels, out_channels=channels_out,
            block_out_channels=tuple(channels), layers_per_block=layers_per_block,
            down_block_types=("DownBlock2D",) * len(channels), up_block_types=("UpBlock2D",) * len(channels),
            norm_num_groups=min(8, channels[0]), class_embed_type="identity" if cond_dim else None,
            add_attention=True, attention_head_dim=attention_head_dim)
        time_dim = channels[0] * 4  # UNet2DModel's timestep-embedding width
        self.project = nn.Linear(cond_dim, time_dim) if cond_dim else None

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, image_cond: torch.Tensor | None = None,
                vector_cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.image_cond != (image_cond is not None):
            raise ValueError("this UNet was built " + ("with" if self.image_cond else "without") + " an image condition")
        if (self.cond_dim is not None) != (vector_cond is not None):
            raise ValueError("this UNet was built " + ("with" if self.cond_dim else "without") + " a vector condition")
        x = torch.cat([x_t, image_cond], dim=1) if image_cond is not None else x_t
        label = self.project(vector_cond) if vector_cond is not None else None
        return self.unet(x, t, class_labels=label).sample


def conditional_unet(channels_out: int, *, sample_size: int, channels: tuple[int, ...] = (32, 64),
                     image_cond: bool = False, cond_dim: int | None = None,
                     layers_per_block: int = 1) -> ConditionalUNet:
    """A small UNet for ``sample_size``² images (about 0.7 M parameters with the default widths); one level per
    entry of ``channels`` (28 px with (16, 32, 64): 28 → 14 → 7, attention at 7 × 7)."""
    return ConditionalUNet(channels_out, sample_size=sample_size, channels=channels, image_cond=image_cond,
                           cond_dim=cond_dim, layers_per_block=layers_per_block)


class EMA:
    """An exponential moving average of a module's weights (the copy DDPMs sample from).

    ``update(step)`` moves every parameter and buffer of :attr:`module` towards the live module's by
    ``1 - d`` with ``d = min(decay, (1 + step) / (10 + step))`` — the usual warm-up, so the average is not stuck at the
    random initial weights early in a short run.

    >>> net = nn.Linear(1, 1, bias=False)
    >>> ema = EMA(net, decay=0.5)
    >>> with torch.no_grad():
    ...     _ = net.weight.fill_(1.0)
    >>> ema.module.weight.data.zero_() is not None
    True
    >>> ema.update(step=1000)  # d = 0.5: halfway from 0 to 1
    >>> float(ema.module.weight)
    0.5
    """

    def __init__(self, module: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.live = module
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for avg, cur in zip(self.module.parameters(), self.live.parameters()):
            avg.lerp_(cur.detach(), 1.0 - d)
        for avg, cur in zip(self.module.buffers(), self.live.buffers()):
            avg.copy_(cur)


def warmup_schedule(optimiser: torch.optim.Optimizer, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear learning-rate warm-up from ``lr / warmup_steps`` to ``lr`` over the first ``warmup_steps`` steps, then
    constant (DDPM's schedule; the TreeDiffusion code warms up over 5000 steps). ``warmup_steps=0``: constant.

    >>> from mmc_lib.nn.optim import adam
    >>> opt = adam([nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> sched = warmup_schedule(opt, 4)
    >>> [round(opt.param_groups[0]["lr"], 2) for _ in range(6) if not opt.step() and not sched.step()]
    [0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    """
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 1.0 if warmup_steps == 0 else min(1.0, (step + 1) / warmup_steps))


def diffusion_loss(unet: ConditionalUNet, x0: torch.Tensor, config: DiffusionConfig, *, generator: torch.Generator,
                   image_cond: torch.Tensor | None = None, vector_cond: torch.Tensor | None = None,
                   scheduler=None, strength: float = 1.0) -> torch.Tensor:
    """DDPM's simple loss on a batch: random ``t``, ``x_t = add_noise(x_0, ε, t)``, ``mean ‖ε - ε_θ‖²``.

    ``strength < 1`` draws ``t`` below ``strength·T`` only: the noise levels a refinement that starts there visits.
    """
    scheduler = scheduler or config.ddpm()
    t = torch.randint(0, config.noise_steps(strength), (x0.shape[0],), generator=generator).to(x0.device)
    noise = torch.randn(x0.shape, generator=generator).to(x0.device)
    x_t = scheduler.add_noise(x0, noise, t)
    return F.mse_loss(unet(x_t, t, image_cond=image_cond, vector_cond=vector_cond), noise)


@torch.no_grad()
def ddim_sample(unet: ConditionalUNet, shape: tuple[int, ...], config: DiffusionConfig, *,
                generator: torch.Generator, image_cond: torch.Tensor | None = None,
                vector_cond: torch.Tensor | None = None, device: str | torch.device = "cpu",
                start: torch.Tensor | None = None, strength: float = 1.0) -> torch.Tensor:
    """Deterministic DDIM sampling (η = 0) from Gaussian noise in ``config.sample_steps`` steps.

    With ``start`` (SDEdit / DiffuseVAE-style refinement): noise ``start`` to ``t_s = strength·T`` (DDPM eq. 4) and run
    DDIM from ``t_s`` to 0 instead.
    """
    scheduler = config.ddim()
    was_training = unet.training
    unet.eval()
    steps = scheduler.timesteps
    x = torch.randn(shape, generator=generator).to(device)
    if start is not None:
        t_max = config.noise_steps(strength)
        steps = [t for t in steps if int(t) < t_max] or [steps[-1]]
        x = scheduler.add_noise(start, x, steps[0].reshape(1).to(device))
    for t in steps:
        eps = unet(x, t.expand(shape[0]).to(device), image_cond=image_cond, vector_cond=vector_cond)
        x = scheduler.step(eps, t, x).prev_sample
    unet.train(was_training)
    return x
