"""TreeDiffusion (da Silva Gonçalves, Manduchi, Vandenhirtz & Vogt 2024): a DDPM conditioned on a TreeVAE's clusters.

Stage 1 is a fitted :class:`~mmc_lib.methods.generative.treevae.TreeVAE`. Stage 2 trains a denoiser ``ε_θ(x_t, t, c)`` whose
condition ``c`` comes from the tree, as in the official code (DiffuseVAE-style, Pandey et al. 2022):

* the *image* condition — the TreeVAE reconstruction of ``x`` by the decoder of a leaf sampled from
  ``P_q(leaf | x)``, concatenated to ``x_t`` on the channel axis;
* the *path* condition — the latents of the nodes on the root → leaf path, each projected and summed into the
  timestep embedding: the nodes' posterior means sit in one slot per depth (zeros below the leaf), so the one
  linear map of :class:`~mmc_lib.nn.diffusion.ConditionalUNet` computes exactly ``Σ_depth W_depth z_depth``.

Training is DDPM's ε-loss with the linear β schedule (Ho et al. 2020, eq. 14; :func:`mmc_lib.nn.diffusion
.diffusion_loss`), Adam with a linear learning-rate warm-up, gradient clipping and an EMA of the weights (as the
authors' ``train_ddpm.py``; our CPU profile shortens the warm-up and the EMA horizon to its shorter run), on the
shared loop :func:`mmc_lib.nn.train` with one step per epoch.

Sampling, as the authors' code does (``DDPMWrapper.predict_step``, ``eval_mode: sample``, ``type: form1``): TreeVAE
draws a path and a leaf image from its prior (optionally forced into one leaf); the DDPM starts from **pure Gaussian
noise** ``x_T`` — not from a noised VAE image — and denoises it with the leaf image and the path as conditions
(deterministic DDIM, Song et al. 2021, with the EMA weights). The authors' MNIST config conditions the embedding on the
leaf index (``z_signal: cluster_id``) and offers the path (``z_signal: path``); we use the path latents, which
determine the leaf.

The UNet is ``diffusers.UNet2DModel`` (small channel counts) behind our shared wrapper; the schedulers are
diffusers' ``DDPMScheduler`` / ``DDIMScheduler``. Images live in [-1, 1] inside the DDPM.

>>> from mmc_lib.methods.generative.treevae import TreeVAE, TreeVAEConfig
>>> x = (np.random.default_rng(0).random((32, 1, 28, 28)) > 0.7).astype("float32")
>>> tree = TreeVAE(2, max_depth=1, config=TreeVAEConfig(epochs=1, final_epochs=1, batch_size=16)).fit(x)
>>> cfg = TreeDiffusionConfig(steps=2, batch_size=8, channels=(8, 16), lr_warmup=1,
...                           diffusion=DiffusionConfig(50, sample_steps=2))
>>> model = TreeDiffusion(tree, config=cfg).fit(x)
>>> model.sample(3, seed=0)["images"].shape
(3, 1, 28, 28)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from mmc_lib.methods.generative.treevae import TreeVAE, check_images
from mmc_lib.nn import Hooks, adam, seeded, train
from mmc_lib.nn.diffusion import EMA, DiffusionConfig, conditional_unet, ddim_sample, diffusion_loss, warmup_schedule
from mmc_lib.runtime import one_thread, progress, resolve_device


@dataclass(frozen=True)
class TreeDiffusionConfig:
    """The conditional DDPM of stage 2: UNet, optimiser schedule, noise schedule and sampler."""

    channels: tuple[int, ...] = (16, 32, 64)  # UNet widths per resolution (28 → 14 → 7; attention at 7 × 7)
    steps: int = 2000  # optimiser steps
    batch_size: int = 128
    lr: float = 1e-3  # Adam's peak learning rate (the authors: 2e-4 for 32 000 steps)
    lr_warmup: int = 100  # linear warm-up steps (the authors: 5000)
    grad_clip: float | None = 1.0  # max gradient norm (the authors: 1.0); None: no clipping
    ema_decay: float | None = 0.995  # EMA of the weights, sampled from (the authors: 0.9999); None: live weights
    log_every: int = 50  # one loss record per this many steps
    eval_every: int = 0  # call ``fit(evaluate=...)`` every this many steps (and at the end); 0: never
    diffusion: DiffusionConfig = field(default_factory=lambda: DiffusionConfig(train_steps=1000, sample_steps=50))
    sample_batch: int = 500  # images per DDIM call

    def __post_init__(self):
        from mmc_lib.validation import check_config

        check_config(self, at_least={"steps": 1, "batch_size": 2, "log_every": 1, "eval_every": 0, "lr_warmup": 0,
                                     "sample_batch": 1})


class TreeDiffusion:
    """Stage 2 of TreeDiffusion on top of a fitted TreeVAE.

    Parameters
    ----------
    tree_vae : TreeVAE
        A fitted TreeVAE (its clusters are TreeDiffusion's clusters: ``labels_`` is the TreeVAE's).
    seed, device, config
        Seed, ``"cpu"``/``"cuda"``/``"auto"``, :class:`TreeDiffusionConfig`.

    Attributes
    ----------
    unet_ : the trained :class:`~mmc_lib.nn.diffusion.ConditionalUNet` (live weights)
    ema_ : its :class:`~mmc_lib.nn.diffusion.EMA` (``None`` without ``ema_decay``); :meth:`sample` uses the average
    history_ : one record per ``log_every`` steps: ``step``, ``loss`` (mean ε-MSE over those steps), ``lr``
    curve_ : one record per ``eval_every`` steps: ``step``, ``seconds`` (training time so far) and what ``evaluate``
        returned
    labels_ : the TreeVAE's leaf of each training image
    """

    def __init__(self, tree_vae: TreeVAE, *, seed: int = 0, device: str = "cpu",
                 config: TreeDiffusionConfig | None = None):
        self.tree_vae, self.seed, self.device = tree_vae, seed, device
        self.config = config or TreeDiffusionConfig()

    @one_thread
    def fit(self, images, *, evaluate: Callable[[TreeDiffusion, int], dict] | None = None) -> TreeDiffusion:
        """Train the denoiser on ``images`` (N, 1, H, W) in [0, 1]. ``evaluate(self, step)`` (optional) runs every
        ``config.eval_every`` steps and after the last; its dict goes into :attr:`curve_` (sampling inside it uses the
        weights as they are at that step; its random numbers do not change the training's). It runs without gradients,
        as every ``on_epoch`` hook of the shared loop (:func:`mmc_lib.nn.train`, here one epoch per step)."""
        if not hasattr(self.tree_vae, "model_"):
            raise ValueError("tree_vae must be a fitted TreeVAE (call its fit first)")
        x_np = check_images(images)
        cfg, device = self.config, resolve_device(self.device)
        self._device = device
        rng = np.random.default_rng(self.seed)
        probs = self.tree_vae.leaf_probabilities(x_np)  # (n, leaves)
        leaf = np.array([rng.choice(probs.shape[1], p=p / p.sum()) for p in probs])  # a leaf sampled from P_q
        recon = self.tree_vae.reconstruct(x_np, leaf)
        path = self.tree_vae.path_latents(x_np, leaf)
        x0, img, vec = (torch.as_tensor(a, device=device) for a in (2 * x_np - 1, 2 * recon - 1, path))
        self.history_, self.curve_ = [], []
        with seeded(self.seed) as gen:
            self.unet_ = conditional_unet(x_np.shape[1], sample_size=x_np.shape[-1], channels=cfg.channels,
                                          image_cond=True, cond_dim=path.shape[1]).to(device)
            self.ema_ = EMA(self.unet_, cfg.ema_decay) if cfg.ema_decay is not None else None
            optimiser = adam(self.unet_.parameters(), lr=cfg.lr, config=cfg)
            lr_schedule = warmup_schedule(optimiser, cfg.lr_warmup)
            scheduler = cfg.diffusion.ddpm()
            bar = progress(total=cfg.steps, desc="TreeDiffusion DDPM steps")
            losses, clock = [], {"seconds": 0.0, "start": time.perf_counter()}

            def draw():  # one "epoch" of the shared loop = one step on rows drawn with replacement
                return [torch.randint(0, len(x0), (cfg.batch_size,), generator=gen).to(device)]

            def loss_fn(idx, step):
                return {"total": diffusion_loss(self.unet_, x0[idx], cfg.diffusion, generator=gen, image_cond=img[idx],
                                                vector_cond=vec[idx], scheduler=scheduler)}

            def after(step: int, record: dict) -> None:  # after each step: warm-up, EMA, log, the curve
                if step == 0:
                    return
                lr_schedule.step()
                if self.ema_ is not None:
                    self.ema_.update(step)
                losses.append(record["total"])
                bar.update(1)
                if step % cfg.log_every == 0 or step == cfg.steps:
                    self.history_.append({"step": step, "loss": float(np.mean(losses)),
                                          "lr": optimiser.param_groups[0]["lr"]})
                    losses.clear()
                if evaluate is not None and ((cfg.eval_every and step % cfg.eval_every == 0) or step == cfg.steps):
                    clock["seconds"] += time.perf_counter() - clock["start"]
                    with torch.random.fork_rng(devices=[]):
                        extra = evaluate(self, step)
                    self.curve_.append({"step": step, "seconds": clock["seconds"], **extra})
                    clock["start"] = time.perf_counter()

            # no module= : the UNet (no dropout, no batch statistics) stays in train mode, not toggled at every step
            self.unet_.train()
            train(loss_fn, optimiser, draw, cfg.steps, hooks=Hooks(on_epoch=after), grad_clip=cfg.grad_clip)
            bar.close()
        self.labels_ = self.tree_vae.labels_ if hasattr(self.tree_vae, "labels_") else None
        return self

    @property
    def sampler_(self) -> torch.nn.Module:
        """The weights :meth:`sample` uses: the EMA average when there is one, else the live UNet."""
        return self.ema_.module if getattr(self, "ema_", None) is not None else self.unet_

    @torch.no_grad()
    def sample(self, n: int, *, seed: int = 0, leaf_index: int | None = None) -> dict:
        """``n`` generations: TreeVAE samples a path + leaf image from its prior, the DDPM refines it.

        Returns ``images`` (n, 1, H, W) in [0, 1], ``vae_images`` (the TreeVAE's own samples it started from) and
        ``leaf_index`` (n,).
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        cfg = self.config
        prior = self.tree_vae.sample(n, seed=seed, leaf_index=leaf_index)
        gen = torch.Generator().manual_seed(seed)
        out = []
        for start in range(0, n, cfg.sample_batch):
            img = torch.as_tensor(2 * prior["images"][start:start + cfg.sample_batch] - 1, device=self._device)
            vec = torch.as_tensor(prior["path"][start:start + cfg.sample_batch], device=self._device)
            x = ddim_sample(self.sampler_, tuple(img.shape), cfg.diffusion, generator=gen, image_cond=img,
                            vector_cond=vec, device=self._device)
            out.append(((x.clamp(-1, 1) + 1) / 2).cpu().numpy())
        return {"images": np.concatenate(out), "vae_images": prior["images"], "leaf_index": prior["leaf_index"]}
