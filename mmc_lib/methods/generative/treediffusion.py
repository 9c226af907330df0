"""TreeDiffusion (da Silva Gonçalves, Manduchi, Vandenhirtz & Vogt 2024): a DDPM conditioned on a TreeVAE's clusters.

Stage 1 is a fitted :class:`~mmc_lib.methods.generative.treevae.TreeVAE`. Stage 2 trains a denoiser ``ε_θ(x_t, t, c)`` whose
condition ``c`` comes from the tree, as in the official code (DiffuseVAE-style, Pandey et al. 2022):

* the *image* condition — the TreeVAE reconstruction of ``x`` by the decoder of a leaf sampled from
  ``P_q(leaf | x)``, concatenated to ``x_t`` on the channel axis;
* the *path* condition — the latents of the nodes on the root → leaf path, each projected and summed into the
  timestep embedding: the nodes' posterior means sit in one slot per depth (zeros below the leaf), so the one
  linear map of :class:`~mmc_lib.nn.diffusion.ConditionalUNet` computes exactly ``Σ_depth W_depth z_depth``.

Training is DDPM's ε-loss with the linear β schedule (Ho et al. 2020, eq. 14; :func:`mmc_lib.nn.diffusion
.diffusion_loss`); sampling is deterministic DDIM (Song et al. 2021). To generate, TreeVAE samples a path and a leaf
image from its prior (optionally forced into one leaf), and the DDPM refines that image into the final sample.

The UNet is ``diffusers.UNet2DModel`` (small channel counts) behind our shared wrapper; the schedulers are
diffusers' ``DDPMScheduler`` / ``DDIMScheduler``. Images live in [-1, 1] inside the DDPM.

>>> from mmc_lib.methods.generative.treevae import TreeVAE, TreeVAEConfig
>>> x = (np.random.default_rng(0).random((32, 1, 28, 28)) > 0.7).astype("float32")
>>> tree = TreeVAE(2, max_depth=1, config=TreeVAEConfig(epochs=1, final_epochs=1, batch_size=16)).fit(x)
>>> cfg = TreeDiffusionConfig(steps=2, batch_size=8, channels=(8, 16), diffusion=DiffusionConfig(50, sample_steps=2))
>>> model = TreeDiffusion(tree, config=cfg).fit(x)
>>> model.sample(3, seed=0)["images"].shape
(3, 1, 28, 28)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mmc_lib.methods.generative.treevae import TreeVAE, check_images
from mmc_lib.nn import Hooks, adam, seeded, train
from mmc_lib.nn.diffusion import DiffusionConfig, conditional_unet, ddim_sample, diffusion_loss
from mmc_lib.runtime import one_thread, progress, resolve_device


@dataclass(frozen=True)
class TreeDiffusionConfig:
    """The conditional DDPM of stage 2."""

    channels: tuple[int, ...] = (32, 64)  # UNet widths per resolution (28 → 14)
    steps: int = 2000  # optimiser steps
    batch_size: int = 64
    lr: float = 2e-4  # Adam (DDPM used 2e-4)
    log_every: int = 50  # one loss record per this many steps
    diffusion: DiffusionConfig = field(default_factory=lambda: DiffusionConfig(train_steps=1000, sample_steps=20))
    sample_batch: int = 500  # images per DDIM call


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
    unet_ : the trained :class:`~mmc_lib.nn.diffusion.ConditionalUNet`
    history_ : one record per ``log_every`` steps: ``step``, ``loss`` (mean ε-MSE over those steps)
    labels_ : the TreeVAE's leaf of each training image
    """

    def __init__(self, tree_vae: TreeVAE, *, seed: int = 0, device: str = "cpu",
                 config: TreeDiffusionConfig | None = None):
        self.tree_vae, self.seed, self.device = tree_vae, seed, device
        self.config = config or TreeDiffusionConfig()

    @one_thread
    def fit(self, images) -> TreeDiffusion:
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
        with seeded(self.seed) as gen:
            self.unet_ = conditional_unet(x_np.shape[1], sample_size=x_np.shape[-1], channels=cfg.channels,
                                          image_cond=True, cond_dim=path.shape[1]).to(device)
            optimiser = adam(self.unet_.parameters(), lr=cfg.lr, config=cfg)
            scheduler = cfg.diffusion.ddpm()
            bar = progress(total=cfg.steps, desc="TreeDiffusion DDPM steps")

            def batches():
                for _ in range(cfg.log_every):
                    yield torch.randint(0, len(x0), (cfg.batch_size,), generator=gen).to(device)

            def loss_fn(idx, epoch):
                loss = diffusion_loss(self.unet_, x0[idx], cfg.diffusion, generator=gen, image_cond=img[idx],
                                      vector_cond=vec[idx], scheduler=scheduler)
                return {"loss": loss, "total": loss}

            hist = train(loss_fn, optimiser, batches, max(1, cfg.steps // cfg.log_every), module=self.unet_,
                         hooks=Hooks(after_step=lambda _: bar.update(1)))
            bar.close()
        self.history_ = [{"step": r["epoch"] * cfg.log_every, "loss": r["loss"]} for r in hist]
        self.labels_ = self.tree_vae.labels_ if hasattr(self.tree_vae, "labels_") else None
        return self

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
            x = ddim_sample(self.unet_, tuple(img.shape), cfg.diffusion, generator=gen, image_cond=img,
                            vector_cond=vec, device=self._device)
            out.append(((x.clamp(-1, 1) + 1) / 2).cpu().numpy())
        return {"images": np.concatenate(out), "vae_images": prior["images"], "leaf_index": prior["leaf_index"]}
