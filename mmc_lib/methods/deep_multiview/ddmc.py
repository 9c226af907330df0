"""DDMC — diversity-oriented deep multi-modal clustering (Wang, Yang, Wang, Hu & Xu; slides in
``shared/seeds/001_913450758be12827.txt``). No official code exists; every choice below is ours and explicit.

Networks (per modality ``m``; ``dm`` is the dominant one):

* a variational MLP encoder ``x^m → (mu^m, logvar^m)``, ``d_m → 256 → 128 → 2·64`` (BatchNorm, ReLU);
  ``D^dm`` is the dominant representation, ``Z^m`` the others' (sampled in training, the mean at test);
* **enhancement**: ``E = [D^dm ‖ mean_{m≠dm} Z^m]`` — the dominant features are kept intact and the
  diversity features of the other modalities appended (``combine="fuse"`` replaces ``D^dm`` by the fusion
  ``Σ_m softmax(w)_m Z^m`` of all modalities: the paper's "fusion" comparison);
* the DDC head (:class:`mmc_lib.nn.blocks.DDCHead`) on ``E`` gives ``Q = A^dm``; a head of the same shape on each
  ``Z^m`` gives ``A^m`` (used only by the cluster-diversity terms).

Losses (slides, "Diversity Learning Part" and "Objective function"):

* ``L_FDL = L1 + L2`` with ``L1 = I(X^dm;D^dm) + Σ I(X^m;Z^m) + Σ I(Z^m;D^dm)``: the first two by the
  variational KL bound (Alemi et al. 2017), averaged over latent dimensions; the third by vCLUB
  (Cheng et al. 2020) on the unit-normalised means (so the encoders cannot lower it by rescaling), clamped at 0
  and, like the KL bounds, averaged over latent dimensions (see "Stability"). ``L2`` = symmetric NT-Xent between
  ``D^dm`` and each ``Z^m``.
  (L1 compresses, L2 keeps what the modalities share: together they aim at the minimal sufficient code.)
* ``L_CDL = L4 - L3`` with ``L3 = Σ_{m≠dm} I(A^m;A^dm)`` (IIC estimator) and
  ``L4 = Σ_m CE(U, Ā^m)`` (uniform target vs. the mean assignment; the sum includes ``A^dm = Q``).
* ``L_total = L_DDC + α·L_FDL + β·L_CDL``; the CLUB variational net is fitted by its own likelihood term,
  added to the back-propagated total but not to the objective used to pick among restarts.

Stability (issue 11; ``benchmarks/diagnose_ddmc.py`` logs every seed and restart). With vCLUB *summed* over the
64 latent dimensions — the form of Cheng et al., but 64× the scale of the per-dimension KL bounds beside it — the
term spiked to 8-10 nats late in training (its q(d|z) grows confident because L2 aligns the very features vCLUB
separates); its gradient into the encoders then reached 10-29× the DDC gradient, the clusters drifted after the
epoch-20 peak (Synthetic3d: 98 % → 89-96 %), the encoders answered by inflating their KL bounds (1.1-4.1 nats vs
0.8-1.0 after the fix), and these two noisy terms, not the clustering, made the objective differ between restarts
(spread within a seed up to 1.17, vs ≤ 0.07 after), so the lowest-objective restart was often the worse one
(Synthetic3d seed 0 kept a 71 % restart over two 95 % ones). Averaging vCLUB over dimensions puts all three L1
bounds on one scale: its gradient stays within 0.7-2× DDC's and the lowest-objective restart is again a good one.
What spread remains (MNIST-USPS, CUB, Prokaryotic) comes from restarts that settle in different partitions from
the first epochs on, with final objectives closer than their noise — not from drift, collapse or one dominating term. No cluster collapse was seen (every restart kept K non-empty
clusters), so no collapse check was added; restart selection stays the lowest final training objective.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.losses.ddc import TERMS as DDC_TERMS
from mmc_lib.losses.ddc import ddc_loss
from mmc_lib.losses.mutual_information import CLUB, assignment_mutual_information, gaussian_kl, uniform_cross_entropy
from mmc_lib.methods.shared import choose_dominant_view
from mmc_lib.methods.base import DeepEstimator
from mmc_lib.methods.deep_multiview.mvc import MVCConfig, ViewEncoder, check_image_views
from mmc_lib.nn import DDCHead

LOSS_GROUPS = ("ddc", "fdl", "cdl")
ABLATIONS = {"DDC": ("ddc",), "DDC+FDL": ("ddc", "fdl"), "DDC+CDL": ("ddc", "cdl"), "all": LOSS_GROUPS}
COMBINE = ("enhance", "fuse")


class DDMCNet(nn.Module):
    """The DDMC network for views of widths ``dims`` with dominant modality ``dominant`` (inputs validated)."""

    def __init__(self, dims: list[int], k: int, config: MVCConfig, *, dominant: int, alpha: float, beta: float,
                 losses: tuple[str, ...] = LOSS_GROUPS, combine: str = "enhance"):
        super().__init__()
        self.dominant, self.alpha, self.beta, self.groups, self.combine = dominant, alpha, beta, losses, combine
        self.others = [m for m in range(len(dims)) if m != dominant]
        self.temperature = config.temperature
        self.rel_sigma = config.rel_sigma
        self.encoders = nn.ModuleList(ViewEncoder(d, config, variational=True) for d in dims)
        self.fusion_weights = nn.Parameter(torch.zeros(len(dims)))  # used by combine="fuse" only
        self.head = DDCHead(2 * config.latent_dim, k, hidden=config.ddc_hidden)
        self.view_heads = nn.ModuleDict({str(m): DDCHead(config.latent_dim, k, hidden=config.ddc_hidden)
                                         for m in self.others})
        self.clubs = nn.ModuleDict({str(m): CLUB(config.latent_dim, config.latent_dim) for m in self.others})

    def _combine(self, z: list[torch.Tensor]) -> torch.Tensor:
        diversity = torch.stack([z[m] for m in self.others]).mean(dim=0)  # (B, latent)
        if self.combine == "enhance":
            base = z[self.dominant]
        else:
            w = torch.softmax(self.fusion_weights, dim=0)
            base = (w[:, None, None] * torch.stack(z)).sum(dim=0)  # (B, latent) weighted mean of all
        return torch.cat([base, diversity], dim=1)  # (B, 2·latent) = E

    def represent(self, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Enhanced representation ``E`` and assignments ``Q`` (eval mode: means, no sampling)."""
        z = [enc(x)[0] for enc, x in zip(self.encoders, views)]
        _, q = self.head(self._combine(z))
        return self._combine(z), q

    def losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        encoded = [enc(x) for enc, x in zip(self.encoders, views)]  # (z, mu, logvar) per modality
        z = [e[0] for e in encoded]
        hidden, q = self.head(self._combine(z))  # (B, 100), (B, K)
        terms = ddc_loss(hidden, q, rel_sigma=self.rel_sigma)
        dm = self.dominant
        zero = q.new_zeros(())
        # --- L1: compression bounds (KL averaged over latent dims) and vCLUB between Z^m and D^dm
        terms["kl_dominant"] = gaussian_kl(encoded[dm][1], encoded[dm][2]) / encoded[dm][1].shape[1]
        terms["kl_others"] = sum((gaussian_kl(encoded[m][1], encoded[m][2]) / encoded[m][1].shape[1]
                                  for m in self.others), zero)
        unit = [F.normalize(e[1], dim=1) for e in encoded]  # CLUB on unit-norm means: scale cannot fake a low MI
        club = [self.clubs[str(m)](unit[m], unit[dm]) for m in self.others]
        # vCLUB is clamped at 0: a negative estimate only says q(d|z) lags behind the encoders, and minimising it
        # further rewards fooling q (unclamped, it fell to -30 mid-training and destabilised the clusters)
        # averaged over latent dimensions like the KL bounds: summed (vCLUB's own form) it was 64× larger, its
        # gradient into the encoders reached 10-29× DDC's in spikes, and it decided which restart won (issue 11)
        terms["club"] = sum((c[0].clamp_min(0.0) for c in club), zero) / encoded[dm][1].shape[1]
        # --- L2: symmetric NT-Xent between the dominant and each other modality
        terms["contrast"] = sum((nt_xent(encoded[dm][1], encoded[m][1], temperature=self.temperature)
                                 for m in self.others), zero)
        # --- L3, L4: cluster-level terms
        a = {m: self.view_heads[str(m)](z[m])[1] for m in self.others}
        terms["mi_assign"] = sum((assignment_mutual_information(a[m], q) for m in self.others), zero)
        terms["uniform"] = uniform_cross_entropy(q) + sum((uniform_cross_entropy(a[m]) for m in self.others), zero)
        club_nll = sum((c[1] for c in club), zero)
        terms.update(self._totals(terms, club_nll))
        return terms

    def _totals(self, t: dict[str, torch.Tensor], club_nll: torch.Tensor) -> dict[str, torch.Tensor]:
        l_ddc = sum(t[name] for name in DDC_TERMS)
        l_fdl = t["kl_dominant"] + t["kl_others"] + t["club"] + t["contrast"]  # L1 + L2
        l_cdl = t["uniform"] - t["mi_assign"]  # L4 - L3
        objective = (l_ddc * ("ddc" in self.groups) + self.alpha * l_fdl * ("fdl" in self.groups)
                     + self.beta * l_cdl * ("cdl" in self.groups))
        fit_club = club_nll if "fdl" in self.groups else club_nll.detach() * 0
        return {"L_DDC": l_ddc, "L_FDL": l_fdl, "L_CDL": l_cdl, "club_nll": club_nll,
                "objective": objective, "total": objective + fit_club}


class DDMC(DeepEstimator):
    """Diversity-oriented deep multi-modal clustering, scikit-learn style.

    Parameters
    ----------
    n_clusters : int
        Number of clusters K (2 ≤ K ≤ n_samples).
    alpha, beta : float
        Weights of the feature- and cluster-level diversity losses (``L_DDC + α L_FDL + β L_CDL``).
    dominant : "silhouette" or int
        The dominant modality: an index, or the view whose k-means partition has the highest silhouette.
    losses : tuple of {"ddc", "fdl", "cdl"}
        Loss groups switched on (the ablation rows switch them off by name).
    combine : {"enhance", "fuse"}
        Dominant-modality enhancement (DDMC) or fusion of all modalities (the paper's comparison).
    config : MVCConfig, optional
        Network sizes and schedule (default: 100 epochs, 3 restarts).

    Attributes
    ----------
    labels_, embedding_ (the enhanced representation), assignments_, history_ (per-epoch loss terms),
    dominant_, view_silhouettes_ (None when ``dominant`` is given), restart_objectives_, snapshots_,
    run_scores_ / selected_run_ / checkpoint_epochs_ (the runs' selection criterion, the run kept, the epoch each
    run's kept weights come from; ``MVCConfig(selection="ddc1")`` makes them the paper's ``ddc_1`` checkpoints).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> cfg = MVCConfig(hidden=(16,), latent_dim=4, epochs=3, batch_size=40, n_restarts=1)
    >>> DDMC(2, alpha=0.1, beta=0.1, dominant=0, config=cfg).fit_predict(views).shape
    (80,)
    """

    def __init__(self, n_clusters: int, *, alpha: float = 0.1, beta: float = 0.1, dominant="silhouette",
                 losses: tuple[str, ...] = LOSS_GROUPS, combine: str = "enhance", config: MVCConfig | None = None,
                 seed: int = 0, device: str = "cpu", snapshot_epochs: tuple[int, ...] = (), **overrides):
        super().__init__(n_clusters, config=config, seed=seed, device=device, **overrides)
        self.snapshot_epochs = snapshot_epochs
        self.alpha, self.beta, self.dominant, self.losses, self.combine = alpha, beta, dominant, losses, combine

    config_class = MVCConfig

    def _check_params(self, views: list[np.ndarray], config: MVCConfig) -> None:
        check_image_views(views, config)
        unknown = sorted(set(self.losses) - set(LOSS_GROUPS))
        if unknown or not self.losses:
            raise ValueError(f"losses must be a non-empty subset of {LOSS_GROUPS}, got {tuple(self.losses)!r}")
        if self.combine not in COMBINE:
            raise ValueError(f"unknown combine {self.combine!r}; known: {COMBINE}")
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
        self.dominant_, self.view_silhouettes_ = self._dominant(views)

    def _dominant(self, views: list[np.ndarray]) -> tuple[int, list[float] | None]:
        if isinstance(self.dominant, str):
            if self.dominant != "silhouette":
                raise ValueError(f"dominant must be 'silhouette' or a view index, got {self.dominant!r}")
            return choose_dominant_view(views, self.n_clusters, seed=self.seed)
        if isinstance(self.dominant, bool) or not isinstance(self.dominant, (int, np.integer)):
            raise TypeError(f"dominant must be 'silhouette' or an int, got {type(self.dominant).__name__}")
        if not 0 <= self.dominant < len(views):
            raise ValueError(f"dominant index {self.dominant} is out of range for {len(views)} views "
                             f"(valid: 0..{len(views) - 1})")
        return int(self.dominant), None

    def _build(self, dims: list[int], k: int, config: MVCConfig) -> DDMCNet:
        return DDMCNet(dims, k, config, dominant=self.dominant_, alpha=self.alpha, beta=self.beta,
                       losses=tuple(self.losses), combine=self.combine)

    def _train(self, tensors, k, config, generator, y):
        model = self._build([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        return self._train_module(model, tensors, k, config, generator, y, snapshot_epochs=self.snapshot_epochs)
