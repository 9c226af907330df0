"""D-MVAE — a diffusion-refined multimodal VAE for clustering ("Mutimodal Clustering Based on Diffusion-Multimodal
VAE"; no official code; our reading of the summary page, with MultiVae's and DiffuseVAE's designs as guides).

* **Dual-branch encoders** (one per modality, :class:`~mmc_lib.methods.generative.dmvae_parts.Encoder`) give Gaussian experts
  q(z | x_m); the **joint posterior is their product (PoE**, MVAE, Wu & Goodman 2018). Why PoE: with both modalities
  always present, the product is sharper than either expert (the latent that clusters), while the experts stay
  usable alone for translation because phase 2 trains them alone (cross-generation + consistency). ``posterior="moe"``
  (MMVAE, Shi et al. 2019) is the alternative.
* A **mixture-of-Gaussians prior** with one component per cluster (VaDE, Jiang et al. 2017) so the latent clusters;
  ``labels_`` is the most likely component of each pair's joint posterior mean.
* **Residual decoders** per modality; a **PatchGAN discriminator** on images (an MLP one on feature vectors), hinge
  loss; a **DDPM denoiser** conditioned on the shared latent z and on the VAE's decoded sample (DiffuseVAE, Pandey
  et al. 2022), sampled with DDIM — ``diffusers`` schedules and UNet (:mod:`mmc_lib.nn.diffusion`).
* **Three phases**, each a named stage with a dict of named loss terms on the one trainer (:func:`mmc_lib.nn.train`):
  ``recon`` (single-modal reconstruction, N(0, I) prior), ``align`` (joint posterior; consistency between the two
  experts; cross-generation; after ``align_warmup`` epochs the MoG prior is initialised from a Gaussian mixture fitted
  to the aligned joint means and trained from then on), ``refine`` (encoders and prior frozen; decoders trained with
  an adversarial term; the denoiser learns to turn a noised decoded sample into a real one).
* **Refinement, not generation from noise**: the decoded sample is noised to ``t = refine_strength·T`` and DDIM
  runs back from there (SDEdit / DiffuseVAE-style; ``refine_strength=1`` samples from pure noise). A CPU budget of a
  few hundred denoiser updates cannot teach a DDPM to draw digits from noise; the low-noise end it can learn.

The three generative read-outs of one fit (``stage=`` of :meth:`DMVAE.translate` / :meth:`DMVAE.generate`):
``"align"`` = the decoders at the end of phase 2 (M-VAE), ``"adversarial"`` = after phase 3 without the denoiser
(M-VAE + adversarial), ``"diffusion"`` = decoded and then refined by DDIM (D-MVAE). Encoders are frozen in phase 3,
so every latent-space score (clusters, linear probe, pair cosines) is the same for the three by construction.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from torch import nn

from mmc_lib.methods.generative.dmvae_parts import (POSTERIORS, Decoder, DMVAEConfig, Encoder, MoGPrior, denoiser,
                                         feature_discriminator, hinge_d, hinge_g, kl_gaussians, kl_mog, kl_standard,
                                         mixture_of_experts_sample, nll, patch_discriminator, product_of_experts,
                                         reparameterise, view_kind)
from mmc_lib.nn import Hooks, adam, minibatches, seeded, step, train
from mmc_lib.nn.diffusion import ddim_sample, diffusion_loss
from mmc_lib.runtime import one_thread, resolve_device
from mmc_lib.validation import check_n_clusters

STAGES = ("align", "adversarial", "diffusion")  # M-VAE, M-VAE + adversarial, D-MVAE
PHASES = ("recon", "align", "refine")


class DMVAE:
    """Diffusion-refined multimodal VAE with a mixture-of-Gaussians prior, for two paired views.

    Parameters
    ----------
    n_clusters : int
        Number of mixture components = clusters.
    seed : int
        Seeds weights, batches, the GMM initialisation and sampling noise.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    config : DMVAEConfig, optional
        Networks and schedule (default ``DMVAEConfig()``).

    Attributes
    ----------
    labels_ : ndarray (n,)
        Most likely mixture component of each pair.
    embedding_ : ndarray (n, latent_dim)
        Joint posterior means.
    history_ : dict
        Phase name → list of per-epoch records of the named loss terms.
    snapshots_ : dict
        Phase name → ``(mu_a, mu_b)``: each modality's posterior means at the end of that phase, on
        ``snapshot_rows_`` (evenly spaced rows, at most ``config.snapshot_rows``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> a = rng.normal(size=(40, 5)) + 3 * y[:, None]
    >>> b = rng.normal(size=(40, 3)) - 3 * y[:, None]
    >>> cfg = DMVAEConfig(latent_dim=2, hidden=16, epochs_recon=2, epochs_align=2, epochs_refine=1,
    ...                   batch_size=20, denoiser_hidden=16)
    >>> model = DMVAE(2, config=cfg).fit([a, b])
    >>> model.labels_.shape, model.translate(b, source=1, target=0).shape
    ((40,), (40, 5))
    """

    def __init__(self, n_clusters: int, *, seed: int = 0, device: str = "cpu", config: DMVAEConfig | None = None):
        self.n_clusters = n_clusters
        self.seed = seed
        self.device = device
        self.config = config

    # ------------------------------------------------------------------ public API
    @one_thread
    def fit(self, views) -> DMVAE:
        """Train the three phases on two paired views (see the module docstring)."""
        cfg = self.config or DMVAEConfig()
        if cfg.posterior not in POSTERIORS:
            raise ValueError(f"unknown posterior {cfg.posterior!r}; known: {POSTERIORS}")
        arrays = _check_pair(views)
        k = check_n_clusters(self.n_clusters, len(arrays[0]))
        self.kinds_ = tuple(view_kind(a) for a in arrays)
        self.shapes_ = tuple(a.shape[1:] for a in arrays)
        self.vocab_ = cfg.vocab_size or max((int(a.max()) + 1 for a, kd in zip(arrays, self.kinds_)
                                             if kd == "tokens"), default=None)
        _check_values(arrays, self.kinds_, self.vocab_)
        self.config_, self.device_ = cfg, resolve_device(self.device)
        self.scalers_ = [(a.mean(0), a.std(0) + 1e-6) if kd == "features" else None
                         for a, kd in zip(arrays, self.kinds_)]
        n_elems = [int(np.prod(s)) for s in self.shapes_]
        self.weights_ = [max(n_elems) / e for e in n_elems]  # each modality's likelihood counts equally
        self.snapshot_rows_ = np.unique(np.linspace(0, len(arrays[0]) - 1, min(cfg.snapshot_rows, len(arrays[0])))
                                        .astype(int))
        with seeded(self.seed) as gen:
            self._build(k)
            x = self._tensors(arrays)
            self.history_, self.snapshots_ = {}, {}
            self.history_["recon"] = _phase_recon(self, x, gen)
            self._snapshot("recon", x)
            self.history_["align"] = _phase_align(self, x, gen)
            self._snapshot("align", x)
            self.decoders_align_ = copy.deepcopy(self.decoders_)  # M-VAE: the decoders before phase 3
            self.history_["refine"] = _phase_refine(self, x, gen)
            self._snapshot("refine", x)
        self.embedding_ = self.transform(arrays)
        self.labels_ = self.predict(arrays)
        return self

    def fit_predict(self, views) -> np.ndarray:
        return self.fit(views).labels_

    def encode(self, views) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each modality's posterior ``(mu, logvar)``, each ``(n, latent_dim)``."""
        self._check_fitted()
        x = self._tensors(self._check_new(views))
        with torch.no_grad():
            return [tuple(t.cpu().numpy() for t in _batched(enc, xm)) for enc, xm in zip(self.encoders_, x)]

    def transform(self, views) -> np.ndarray:
        """Joint posterior means (PoE: the product's mean; MoE: the experts' average), ``(n, latent_dim)``."""
        (mu_a, lv_a), (mu_b, lv_b) = self.encode(views)
        if self.config_.posterior == "moe":
            return (mu_a + mu_b) / 2
        mu, _ = product_of_experts([torch.as_tensor(mu_a), torch.as_tensor(mu_b)],
                                   [torch.as_tensor(lv_a), torch.as_tensor(lv_b)])
        return mu.numpy()

    def predict(self, views) -> np.ndarray:
        """Most likely mixture component of each pair's joint posterior mean."""
        z = torch.as_tensor(self.transform(views), device=self.device_)
        with torch.no_grad():
            return self.prior_.responsibilities(z).argmax(1).cpu().numpy().astype(np.int64)

    def translate(self, x, *, source: int, target: int, stage: str = "diffusion", sample: bool = True,
                  seed: int = 0) -> np.ndarray:
        """Cross-modal generation: encode ``x`` (modality ``source``), decode modality ``target``.

        ``sample=True`` draws z from q(z | x) (diverse outputs), else its mean. ``stage`` picks the read-out
        (``"align"`` M-VAE, ``"adversarial"``, ``"diffusion"`` D-MVAE; text targets have no diffusion stage).
        """
        self._check_fitted()
        _check_index(source, "source"), _check_index(target, "target")
        arr = _check_one(x, self.kinds_[source], self.shapes_[source], f"modality {source}")
        _check_values([arr], [self.kinds_[source]], self.vocab_)
        xs = self._tensor(arr, source)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            mu, lv = _batched(self.encoders_[source], xs)
            z = reparameterise(mu, lv, g) if sample else mu
        return self._decode(z, target, stage, g)

    def generate(self, clusters, *, view: int = 0, stage: str = "diffusion", seed: int = 0) -> np.ndarray:
        """Samples of modality ``view`` from given mixture components: z ~ N(μ_k, σ_k²), then decode (and refine)."""
        self._check_fitted()
        _check_index(view, "view")
        clusters = np.asarray(clusters, dtype=np.int64)
        if clusters.ndim != 1 or clusters.min() < 0 or clusters.max() >= self.n_clusters:
            raise ValueError(f"clusters must be a 1-D array of ids in [0, {self.n_clusters})")
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            mu, lv = self.prior_.mu[clusters], self.prior_.logvar[clusters]
            z = reparameterise(mu, lv, g)
        return self._decode(z, view, stage, g)

    # ------------------------------------------------------------------ internals
    def _build(self, k: int) -> None:
        cfg, dev = self.config_, self.device_
        self.encoders_ = nn.ModuleList([Encoder(kd, s, cfg, self.vocab_) for kd, s in zip(self.kinds_, self.shapes_)])
        self.decoders_ = nn.ModuleList([Decoder(kd, s, cfg, self.vocab_) for kd, s in zip(self.kinds_, self.shapes_)])
        self.prior_ = MoGPrior(k, cfg.latent_dim)
        self.refined_ = tuple(m for m, kd in enumerate(self.kinds_) if kd != "tokens")
        self.denoisers_ = nn.ModuleDict({str(m): denoiser(self.kinds_[m], self.shapes_[m], cfg) for m in self.refined_})
        self.discriminators_ = nn.ModuleDict({
            str(m): (patch_discriminator(self.shapes_[m][0], cfg.channels) if self.kinds_[m] == "image"
                     else feature_discriminator(self.shapes_[m][0], cfg.hidden))
            for m in self.refined_ if cfg.adversarial > 0})
        for net in (self.encoders_, self.decoders_, self.prior_, self.denoisers_, self.discriminators_):
            net.to(dev)

    def _tensor(self, arr: np.ndarray, m: int) -> torch.Tensor:
        if self.kinds_[m] == "tokens":
            return torch.as_tensor(arr, dtype=torch.long, device=self.device_)
        if self.kinds_[m] == "features":
            mean, std = self.scalers_[m]
            arr = (arr - mean) / std
        return torch.as_tensor(np.asarray(arr, dtype=np.float32), device=self.device_)

    def _tensors(self, arrays) -> list[torch.Tensor]:
        return [self._tensor(a, m) for m, a in enumerate(arrays)]

    def _snapshot(self, phase: str, x) -> None:
        idx = torch.as_tensor(self.snapshot_rows_, device=self.device_)
        with torch.no_grad():
            self.snapshots_[phase] = tuple(enc(xm[idx])[0].cpu().numpy() for enc, xm in zip(self.encoders_, x))

    def _init_prior(self, x) -> None:
        """VaDE's initialisation: a diagonal Gaussian mixture fitted to the phase-1 joint posterior means."""
        with torch.no_grad():
            (mu_a, lv_a), (mu_b, lv_b) = (_batched(enc, xm) for enc, xm in zip(self.encoders_, x))
            z = product_of_experts([mu_a, mu_b], [lv_a, lv_b])[0].cpu().numpy()
        gmm = GaussianMixture(self.prior_.mu.shape[0], covariance_type="diag", random_state=self.seed,
                              reg_covar=1e-4, n_init=3).fit(z)
        self.prior_.init_from(gmm.weights_, gmm.means_, gmm.covariances_)

    def _decode(self, z: torch.Tensor, m: int, stage: str, g: torch.Generator) -> np.ndarray:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; known: {STAGES}")
        if stage == "diffusion" and m not in self.refined_:
            raise ValueError(f"modality {m} ({self.kinds_[m]}) has no diffusion refinement; use stage='adversarial'")
        decoders = self.decoders_align_ if stage == "align" else self.decoders_
        outs = []
        with torch.no_grad():
            for start in range(0, len(z), 500):
                zb = z[start:start + 500]
                out = decoders[m].mean(zb)
                if stage == "diffusion":
                    out = self._refine(m, out, zb, g)
                outs.append(out)
        out = torch.cat(outs).cpu().numpy()
        if self.kinds_[m] == "features":
            mean, std = self.scalers_[m]
            out = out * std + mean
        return out

    def _refine(self, m: int, decoded: torch.Tensor, z: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """DDIM from the noised decoded sample, conditioned on it and on z; images are denoised in [-1, 1]."""
        image = self.kinds_[m] == "image"
        cond = decoded * 2 - 1 if image else decoded
        cfg = self.config_
        x = ddim_sample(self.denoisers_[str(m)], tuple(cond.shape), cfg.diffusion, generator=g, image_cond=cond,
                        vector_cond=z, device=cond.device, start=cond, strength=cfg.refine_strength)
        return ((x + 1) / 2).clamp(0, 1) if image else x

    def _check_new(self, views) -> list[np.ndarray]:
        arrays = _check_pair(views)
        for m, a in enumerate(arrays):
            _check_one(a, self.kinds_[m], self.shapes_[m], f"view {m}")
        _check_values(arrays, self.kinds_, self.vocab_)
        return arrays

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoders_"):
            raise RuntimeError("DMVAE is not fitted yet; call fit(views) first")


# ---------------------------------------------------------------------- validation
def _check_index(m: int, name: str) -> None:
    if m not in (0, 1):
        raise ValueError(f"{name} must be 0 or 1 (D-MVAE takes two views), got {m!r}")


def _check_pair(views) -> list[np.ndarray]:
    """Two arrays with one row per pair, finite, of a known kind; images square."""
    if isinstance(views, np.ndarray) or len(views) != 2:
        raise ValueError("D-MVAE needs a list of exactly two views (one array per modality)")
    arrays = []
    for m, v in enumerate(views):
        arr = np.asarray(v)
        if arr.dtype.kind not in "iu":
            arr = arr.astype(np.float32)
        kind = view_kind(arr)
        if arr.shape[0] == 0 or 0 in arr.shape[1:]:
            raise ValueError(f"view {m} is empty: shape {arr.shape}")
        if kind != "tokens" and not np.isfinite(arr).all():
            raise ValueError(f"view {m} contains {int((~np.isfinite(arr)).sum())} NaN/inf value(s)")
        if kind == "image" and (arr.shape[2] != arr.shape[3] or arr.shape[2] % 4):
            raise ValueError(f"view {m}: the CNN encoder needs square images with a side divisible by 4, got "
                             f"{arr.shape[2]}x{arr.shape[3]}")
        arrays.append(arr)
    if len(arrays[0]) != len(arrays[1]):
        raise ValueError(f"the views have different numbers of rows ({len(arrays[0])} vs {len(arrays[1])}); "
                         "D-MVAE needs one row per pair in each view")
    return arrays


def _check_one(arr, kind: str, shape: tuple, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iu":
        arr = arr.astype(np.float32)
    if view_kind(arr) != kind or arr.shape[1:] != tuple(shape):
        raise ValueError(f"{name}: expected {kind} of shape (n, {', '.join(map(str, shape))}), got {arr.shape}")
    if kind != "tokens" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN/inf values")
    return arr


def _check_values(arrays, kinds, vocab: int | None) -> None:
    for m, (a, kd) in enumerate(zip(arrays, kinds)):
        if kd == "tokens" and (a.min() < 0 or a.max() >= vocab):
            bad = sorted({int(t) for t in np.unique(a) if t < 0 or t >= vocab})
            raise ValueError(f"view {m}: unknown text tokens {bad[:10]}; the vocabulary has ids 0..{vocab - 1}")
        if kd == "image" and (a.min() < 0 or a.max() > 1):
            raise ValueError(f"view {m}: image pixels must lie in [0, 1] (Bernoulli likelihood), got "
                             f"{a.min():.3g}..{a.max():.3g}")


# ---------------------------------------------------------------------- the three phases (inputs validated)
def _batched(net, x, size: int = 1000):
    outs = [net(x[s:s + size]) for s in range(0, len(x), size)]
    return tuple(torch.cat(parts) for parts in zip(*outs))


def _batches(model: DMVAE, n: int, gen: torch.Generator):
    return lambda: minibatches(n, model.config_.batch_size, generator=gen, device=model.device_, drop_last=True)


def _phase_recon(model: DMVAE, x, gen) -> list[dict]:
    """Phase 1: each modality reconstructs itself through its own posterior, N(0, I) prior (the VAE ELBO)."""
    cfg, w = model.config_, model.weights_
    params = [*model.encoders_.parameters(), *model.decoders_.parameters()]

    def loss_fn(idx, epoch):
        terms = {}
        for m, name in enumerate("ab"):
            mu, lv = model.encoders_[m](x[m][idx])
            terms[f"rec_{name}"] = nll(model.decoders_[m], reparameterise(mu, lv, gen), x[m][idx])
            terms[f"kl_{name}"] = kl_standard(mu, lv)
        terms["total"] = (w[0] * terms["rec_a"] + w[1] * terms["rec_b"]
                          + cfg.beta * (terms["kl_a"] + terms["kl_b"]))
        return terms

    return train(loss_fn, adam(params, lr=cfg.lr, config=cfg), _batches(model, len(x[0]), gen),
                 cfg.epochs_recon, module=model.encoders_, limit=cfg.divergence_limit)


def align_terms(model: DMVAE, x, idx, gen, *, mixture: bool = True) -> dict:
    """Phase 2's named terms on the rows ``idx`` of the tensors ``x`` (image, text), drawing noise from ``gen``:
    reconstructions from the joint latent, VaDE's KL (N(0, I) during the warm-up), the experts' symmetric KL and the
    cross-generations. Keys starting with ``_`` hold the sampled latents (notebook 04 rebuilds one batch by hand)."""
    cfg = model.config_
    (mu_a, lv_a), (mu_b, lv_b) = (enc(xm[idx]) for enc, xm in zip(model.encoders_, x))
    if cfg.posterior == "poe":
        mu, lv = product_of_experts([mu_a, mu_b], [lv_a, lv_b])
    else:
        mu, lv = mixture_of_experts_sample([mu_a, mu_b], [lv_a, lv_b], gen)
    z = reparameterise(mu, lv, gen)
    z_a, z_b = reparameterise(mu_a, lv_a, gen), reparameterise(mu_b, lv_b, gen)
    return {
        "rec_a": nll(model.decoders_[0], z, x[0][idx]),
        "rec_b": nll(model.decoders_[1], z, x[1][idx]),
        # VaDE eq. 12 on the joint posterior; N(0, I) during the warm-up, before the mixture is fitted
        "kl_mog" if mixture else "kl": kl_mog(model.prior_, mu, lv, z) if mixture else kl_standard(mu, lv),
        # symmetric KL between the experts: the two modalities of a pair should agree on z
        "consistency": kl_gaussians(mu_a, lv_a, mu_b, lv_b) + kl_gaussians(mu_b, lv_b, mu_a, lv_a),
        "cross_ab": nll(model.decoders_[1], z_a, x[1][idx]),  # text from the image's latent
        "cross_ba": nll(model.decoders_[0], z_b, x[0][idx]),  # image from the text's latent
        "_z": z.detach(), "_z_a": z_a.detach(), "_z_b": z_b.detach(),
    }


def align_total(model: DMVAE, terms: dict, *, mixture: bool = True) -> torch.Tensor:
    """Phase 2's objective (notebook 04, section 1) from the terms of :func:`align_terms`."""
    cfg, w = model.config_, model.weights_
    return (w[0] * terms["rec_a"] + w[1] * terms["rec_b"] + cfg.beta * terms["kl_mog" if mixture else "kl"]
            + cfg.consistency * terms["consistency"]
            + cfg.cross * (w[1] * terms["cross_ab"] + w[0] * terms["cross_ba"]))


def _phase_align(model: DMVAE, x, gen) -> list[dict]:
    """Phase 2: joint posterior; consistency between the experts; cross-generation. The first ``align_warmup``
    epochs use the N(0, I) prior; then the mixture prior is fitted to the (now aligned) joint means and trained on
    (VaDE's initialisation, done once the two experts agree rather than on phase 1's unrelated latents)."""
    cfg = model.config_
    warmup = min(cfg.align_warmup, cfg.epochs_align)

    def run(epochs: int, mixture: bool) -> list[dict]:
        params = [*model.encoders_.parameters(), *model.decoders_.parameters()]
        params += list(model.prior_.parameters()) if mixture else []

        def loss_fn(idx, epoch):
            t = {k: v for k, v in align_terms(model, x, idx, gen, mixture=mixture).items() if not k.startswith("_")}
            t["total"] = align_total(model, t, mixture=mixture)
            return t

        return train(loss_fn, adam(params, lr=cfg.lr, config=cfg), _batches(model, len(x[0]), gen), epochs,
                     module=model.encoders_, limit=cfg.divergence_limit)

    history = run(warmup, mixture=False) if warmup else []
    model._init_prior(x)
    rest = run(cfg.epochs_align - warmup, mixture=True) if cfg.epochs_align > warmup else []
    return history + [{**r, "epoch": r["epoch"] + warmup} for r in rest]


def _phase_refine(model: DMVAE, x, gen) -> list[dict]:
    """Phase 3: encoders and prior frozen; decoders keep their reconstruction/cross terms plus an adversarial
    term; each image/feature modality's denoiser learns x_0 from (decoded sample, z). Half the rows condition on
    the joint latent, half on the OTHER modality's latent, so the denoiser also learns to refine translations."""
    cfg, w = model.config_, model.weights_
    for net in (model.encoders_, model.prior_):
        net.requires_grad_(False)
    params = [*model.decoders_.parameters(), *model.denoisers_.parameters()]
    opt_d = adam(model.discriminators_.parameters(), lr=cfg.lr, betas=(0.5, 0.999), config=cfg) \
        if len(model.discriminators_) else None
    state: dict = {"disc": []}
    scheduler = cfg.diffusion.ddpm()
    other = {0: "_z_b", 1: "_z_a"}

    def loss_fn(idx, epoch):
        with torch.no_grad():
            a = align_terms(model, x, idx, gen)  # recomputed below with gradients into the decoders only
        t = {"rec_a": nll(model.decoders_[0], a["_z"], x[0][idx]), "rec_b": nll(model.decoders_[1], a["_z"], x[1][idx]),
             "cross_ab": nll(model.decoders_[1], a["_z_a"], x[1][idx]),
             "cross_ba": nll(model.decoders_[0], a["_z_b"], x[0][idx])}
        total = (w[0] * t["rec_a"] + w[1] * t["rec_b"] + cfg.cross * (w[1] * t["cross_ab"] + w[0] * t["cross_ba"]))
        state["pairs"] = []
        for m in model.refined_:
            real = x[m][idx]
            mix = (torch.rand(len(idx), generator=gen) < 0.5).to(real.device)[:, None]
            z = torch.where(mix, a["_z"], a[other[m]])  # (B, L)
            fake = model.decoders_[m].mean(z)  # (B, ...) the decoded sample
            if opt_d is not None:
                t[f"adv_{m}"] = hinge_g(model.discriminators_[str(m)](fake))
                total = total + cfg.adversarial * t[f"adv_{m}"]
                state["pairs"].append((m, real, fake.detach()))
            image = model.kinds_[m] == "image"
            x0, cond = (real * 2 - 1, fake.detach() * 2 - 1) if image else (real, fake.detach())
            t[f"diffusion_{m}"] = diffusion_loss(model.denoisers_[str(m)], x0, cfg.diffusion, generator=gen,
                                                 image_cond=cond, vector_cond=z, scheduler=scheduler,
                                                 strength=cfg.refine_strength)
            total = total + t[f"diffusion_{m}"]
        t["total"] = total
        return t

    def after_step(idx):  # the discriminators' hinge step on the batch just used
        for m, real, fake in state["pairs"]:
            disc = model.discriminators_[str(m)]
            state["disc"].append(step(opt_d, hinge_d(disc(real), disc(fake))))

    def on_epoch(epoch, record):
        if state["disc"]:
            record["disc"] = float(np.mean(state["disc"]))
        state["disc"] = []

    try:
        return train(loss_fn, adam(params, lr=cfg.lr, config=cfg), _batches(model, len(x[0]), gen), cfg.epochs_refine,
                     module=model.decoders_, limit=cfg.divergence_limit,
                     hooks=Hooks(after_step=after_step if opt_d is not None else None, on_epoch=on_epoch))
    finally:
        for net in (model.encoders_, model.prior_):
            net.requires_grad_(True)
