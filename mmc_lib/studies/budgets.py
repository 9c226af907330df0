"""What each study runs in each profile: the ONE place for smoke/full budgets.

``smoke`` runs every notebook on CPU in minutes (CI); ``full`` is the paper protocol at the scale a 2-core
CPU allows (each budget says where it is cut). A study reads its budget with :func:`budget`; seeds always
start at the notebook's ``seed`` parameter, and the number of seeds is the budget's.

>>> budget("01_ddmc", "full").seeds(seed=0)
(0, 1, 2, 3, 4)
>>> budget("02_dm2c", "smoke").dm2c.epochs
11

A notebook changes a field without editing this file: ``budget(study, profile, **changes)``, where a key
``a__b`` reaches field ``b`` of the dataclass in field ``a`` (notebooks 04 and 05 take these as their
``budget_changes`` parameter):

>>> budget("05_treediffusion", "smoke", diffusion__steps=50, n_seeds=1).diffusion.steps
50
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import Any

from mmc_lib.methods.crossmodal.aligners import ContrastiveConfig
from mmc_lib.methods.deep_multiview.deep_baselines import DeepClusterConfig
from mmc_lib.methods.crossmodal.dm2c_parts import DM2CConfig
from mmc_lib.methods.generative.dmvae_parts import DMVAEConfig
from mmc_lib.methods.deep_multiview.mvc import MVCConfig
from mmc_lib.methods.generative.treediffusion import TreeDiffusionConfig
from mmc_lib.methods.generative.treevae import TreeVAEConfig, VAEConfig
from mmc_lib.nn.diffusion import DiffusionConfig
from mmc_lib.runtime import check_profile

#: the paper's own data sets of DDMC (absent here) and the real multi-view sets we have
DDMC_PAPER_DATASETS = ("caltech-3v", "caltech-4v", "esp-game", "flickr", "iapr")
DDMC_OUR_DATASETS = ("mnist-usps", "cub", "wikipedia", "prokaryotic", "synthetic3d")


#: notebook 01, smoke: each competitor of the DDMC table on tiny networks and schedules (a second or two on 400 rows);
#: only the code path is tested, the numbers mean nothing
COMPETITORS_SMOKE = {
    "RMKMC": {"max_iter": 10}, "SwMC": {"max_iter": 3, "clr_iter": 10}, "ONMSC": {"max_iter": 3},
    "SMCMB": {"n_graphs": 2, "n_anchors": 30, "qp_iter": 20},
    "EAMC": {"config": {"hidden": [32, 32], "disc_hidden": [16], "epochs": 2}},
    "DEMVC": {"config": {"hidden": [32], "pretrain_epochs": 2, "iterations": 10, "update_interval": 5, "n_init": 2}},
    "MFLVC": {"config": {"hidden": [32], "feature_dim": 16, "high_feature_dim": 8, "mse_epochs": 2, "con_epochs": 2,
                         "tune_epochs": 2, "kmeans_n_init": 2}},
    "SEM": {"config": {"hidden": [32], "feature_dim": 16, "high_feature_dim": 8, "mse_epochs": 2, "con_epochs": 2,
                       "n_iterations": 2, "kmeans_n_init": 2}},
    "SCMVC": {"config": {"hidden": [32], "feature_dim": 16, "high_feature_dim": 8, "fusion_hidden": 16,
                         "pretrain_epochs": 2, "epochs": 2, "kmeans_n_init": 2}},
    "DIVIDE": {"config": {"hidden": [32], "embed_dim": 16, "epochs": 3, "start_rectify_epoch": 2, "warmup_epochs": 1,
                          "kmeans_n_init": 2}},
    "SSLNMVC": {"config": {"hidden": [32, 32, 32], "feature_dim": 16, "high_feature_dim": 8, "pretrain_epochs": 2,
                           "epochs": 2}},
}

#: notebook 01, full: every competitor on its authors' defaults (= its paper's setting), except DEMVC, whose 20 000
#: clustering steps on 784-500-500-2000 autoencoders (~0.12 s per step on a CPU core: ~45 min per run) are cut;
#: its rows say so ("reduced schedule: …"), the audit grades them ``not tested at the paper's budget`` and leaves them out of orderings.
COMPETITORS_FULL = {"DEMVC": {"config": {"pretrain_epochs": 200, "iterations": 1000, "update_interval": 100}}}
#: the authors' per-data-set epochs (their training scripts), applied on top of the defaults in the full profile
COMPETITOR_PAPER_EPOCHS = {"SCMVC": ("epochs", {"mnist-usps": 50, "synthetic3d": 100, "prokaryotic": 20}),
                           "SSLNMVC": ("epochs", {"synthetic3d": 80})}
#: where the deep competitors run in the full CPU profile: their authors' schedules cost 1–6 CPU minutes per run
#: even on 600 rows, so one seed on Synthetic3d (and SCMVC also on Prokaryotic, where its paper reports a number)
COMPETITOR_DATASETS_CPU = {m: ("synthetic3d",) for m in ("EAMC", "DEMVC", "MFLVC", "SEM", "DIVIDE", "SSLNMVC")}
COMPETITOR_DATASETS_CPU["SCMVC"] = ("synthetic3d", "prokaryotic")
#: the deep competitors (one seed each on the CPU: see :data:`COMPETITOR_DATASETS_CPU`)
DEEP_COMPETITORS = ("EAMC", "DEMVC", "MFLVC", "SEM", "SCMVC", "DIVIDE", "SSLNMVC")


def _seeds(seed: int, n: int) -> tuple[int, ...]:
    return tuple(seed + i for i in range(n))


@dataclass(frozen=True)
class BaselinesBudget:
    """Notebook 00: classical baselines on every present data set."""

    profile: str
    n_seeds: int
    max_samples: int | None  # stratified cap per data set (None: all rows)
    tsne_max_points: int

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)


@dataclass(frozen=True)
class DDMCBudget:
    """Notebook 01: DDMC beside SiMVC/CoMVC and the classical rows."""

    profile: str
    n_seeds: int = 5  # main table, ablation and fusion (the paper does not say)
    epochs: int = 100  # Adam epochs per training run
    n_restarts: int = 2  # restarts per seed, chosen by ``selection``
    #: SiMVC / CoMVC / DDMC's choice among their restarts in the main table: "objective" (the lowest final objective,
    #: last epoch) or "ddc1" (the SiMVC/CoMVC paper's: each checkpointed at its lowest eval ddc_1, the lowest kept)
    selection: str = "objective"
    checkpoint_every: int = 4  # selection="ddc1": epochs between ddc_1 checks (the reference code's 4)
    max_samples: dict = field(default_factory=dict)  # stratified row caps per data set (full: every row)
    #: per data set, ``MVCConfig.encoder`` of SiMVC/CoMVC/DDMC (missing: "mlp"). MNIST-USPS keeps MLPs on the CPU: the
    #: reference CNN costs ~300 CPU seconds per 100-epoch fit (6× the MLP), too much for 3 methods × 5 seeds × 2 restarts
    #: in the hour (benchmarks/bench_mnist_usps.py runs it); ``{"mnist-usps": "cnn"}`` runs the CNN (e.g. on a GPU)
    encoders: dict = field(default_factory=dict)
    competitor_options: dict = field(default_factory=lambda: dict(COMPETITORS_FULL))  # constructor keywords
    paper_epochs: bool = True  # apply COMPETITOR_PAPER_EPOCHS (the authors' per-data-set epochs)
    n_competitor_seeds: int = 3  # the classical competitors (RMKMC, SwMC, ONMSC, SMCMB)
    n_deep_competitor_seeds: int = 1  # the deep ones (their authors' schedules on a 2-core CPU)
    #: per deep competitor, the data sets it runs on (a method not listed runs on every data set)
    competitor_datasets: dict = field(default_factory=lambda: dict(COMPETITOR_DATASETS_CPU))
    alpha: float = 0.1  # DDMC defaults, fixed a priori (not tuned on labels)
    beta: float = 0.1
    ablation_datasets: tuple[str, ...] = ("cub", "prokaryotic")
    ablation_restarts: int = 1  # ablation and fusion runs (their "all"/"enhancement" rows use the same)
    grid_values: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)  # α and β, log scale
    grid_datasets: tuple[str, ...] = ("cub",)
    n_grid_seeds: int = 3  # the seed spread is drawn on the heatmap
    curve_datasets: tuple[str, ...] = ("cub", "synthetic3d")  # convergence and t-SNE over epochs
    snapshot_epochs: tuple[int, ...] = (0, 25, 50, 75, 100)
    n_dominant_seeds: int = 1  # DDMC with every view as dominant (1 restart)
    dominant_datasets: tuple[str, ...] = ("cub", "prokaryotic")
    tsne_max_points: int = 1000
    #: the paper's run selection (SiMVC/CoMVC reference code): this many runs per method (seeds ``seed`` …), one
    #: restart each, checkpointed at its lowest eval ``ddc_1``, the run with the lowest ``ddc_1`` kept
    #: (:func:`mmc_lib.studies.ddmc.select_runs`);
    #: 0 = not run (the CPU profiles: 20 CNN fits cost ~300 CPU s each)
    n_selection_runs: int = 0
    selection_datasets: tuple[str, ...] = ("mnist-usps",)
    selection_encoder: str = "cnn"  # the reference code's CNN on the 28×28 digits
    selection_epochs: int = 100  # the reference code's n_epochs
    selection_batch_size: int = 100  # the reference code's batch_size
    selection_scale: bool = False  # raw pixels, as the reference code feeds its CNN (no feature-wise min-max)
    selection_checkpoint_every: int = 4  # each run checkpointed at its lowest eval ddc_1, checked this often (reference: 4)

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)

    def selection_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_selection_runs)

    def grid_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_grid_seeds)

    def dominant_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_dominant_seeds)

    def competitor_seeds(self, method: str, seed: int = 0) -> tuple[int, ...]:
        n = self.n_deep_competitor_seeds if method in DEEP_COMPETITORS else self.n_competitor_seeds
        return _seeds(seed, n)

    def runs_competitor(self, method: str, dataset: str) -> bool:
        """Whether ``method`` (one of the paper's other competitors) runs on ``dataset`` under this budget."""
        return method not in self.competitor_datasets or dataset in self.competitor_datasets[method]

    def competitor_config(self, method: str, dataset: str) -> dict:
        """The constructor keywords of ``method`` on ``dataset``: the budget's options, plus the authors'
        per-data-set epochs where their scripts set them."""
        options = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.competitor_options.get(method, {}).items()}
        if self.paper_epochs and method in COMPETITOR_PAPER_EPOCHS:
            name, per_dataset = COMPETITOR_PAPER_EPOCHS[method]
            if dataset in per_dataset:
                options.setdefault("config", {})[name] = per_dataset[dataset]
        return options

    def schedule_note(self, method: str) -> str:
        """The result-row note of a competitor trained on a cut schedule ("" when it runs its authors' one)."""
        options = self.competitor_options.get(method, {})
        if method not in COMPETITORS_FULL or self.profile != "full" or not options:
            return ""
        cut = ", ".join(f"{k}={v}" for k, v in options.get("config", options).items())
        return f"reduced schedule: {cut} instead of the authors' schedule (2-core CPU budget)"

    def cap(self, dataset: str) -> int | None:
        return self.max_samples.get(dataset)

    def encoder_option(self, dataset: str) -> dict:
        """``{"encoder": "cnn"}`` for a data set whose views are images, else ``{}`` (the MLP default, which keeps
        the cache keys of MLP runs unchanged)."""
        encoder = self.encoders.get(dataset, "mlp")
        return {} if encoder == "mlp" else {"encoder": encoder}

    def config(self, n_restarts: int | None = None) -> MVCConfig:
        """The networks and schedule of every DDMC/SiMVC/CoMVC run of this budget."""
        return MVCConfig(epochs=self.epochs, n_restarts=n_restarts or self.n_restarts)


@dataclass(frozen=True)
class DM2CBudget:
    """Notebook 02: DM2C and the deep single-input baselines on mixed-modal splits."""

    profile: str
    dm2c: DM2CConfig  # DM2C networks and schedule
    deep: DeepClusterConfig  # DKM/DCN/IDEC/IMSAT networks and schedule
    n_seeds: int
    max_samples: dict = field(default_factory=dict)  # per-dataset cap on (training) rows
    default_max_samples: int | None = None  # cap for data sets not in ``max_samples``
    kmeans_n_init: int = 10  # k-means baseline restarts
    n_ablation_seeds: int = 3
    fractions: tuple[float, ...] = (0.1, 0.3, 0.5)  # share of samples that keep modality A
    n_fraction_seeds: int = 2
    monitor_every: int = 5  # convergence run: k-means ACC/NMI every this many epochs
    tsne_max_points: int = 2000
    dm2c_authors: DM2CConfig | None = None  # DM2CConfig.authors() at this budget's scale (None: not run)
    authors_seeds: dict = field(default_factory=dict)  # seeds of the authors' design per data set (default: all)

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)

    def authors_design_seeds(self, dataset: str, seed: int = 0) -> tuple[int, ...]:
        return self.seeds(seed)[: self.authors_seeds.get(dataset, self.n_seeds)]

    def ablation_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return self.seeds(seed)[: self.n_ablation_seeds]

    def fraction_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return self.seeds(seed)[: self.n_fraction_seeds]

    def cap(self, dataset: str) -> int | None:
        return self.max_samples.get(dataset, self.default_max_samples)


@dataclass(frozen=True)
class JointBudget:
    """Notebook 03: joint embedding spaces (CCA, contrastive), clustering in them, Wikipedia retrieval."""

    profile: str
    n_seeds: int
    max_samples: int | None  # stratified cap per clustering data set (None: all rows)
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig)
    cca_components: int = 10  # canonical pairs (Wikipedia's LDA text view has only 10 features)
    cca_pca: int | None = 64  # per-view PCA before CCA (CUB has 1024-d images but 600 pairs)
    joint: str = "mean"  # how a pair's two projections become one vector
    dbscan_min_samples: int = 10  # DBSCAN density threshold; eps from the knee
    dbscan_noise: str = "cluster"  # DBSCAN noise scored as one extra cluster
    kmeans_n_init: int = 10  # k-means restarts (lowest inertia wins, no labels)
    tsne_max_points: int = 2000

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)


def _baselines(profile: str) -> BaselinesBudget:
    if profile == "full":
        return BaselinesBudget(profile, n_seeds=5, max_samples=None, tsne_max_points=2000)
    return BaselinesBudget(profile, n_seeds=2, max_samples=400, tsne_max_points=300)


def _ddmc(profile: str) -> DDMCBudget:
    if profile == "full":
        return DDMCBudget(profile)
    every = DDMC_OUR_DATASETS + DDMC_PAPER_DATASETS
    return DDMCBudget(profile, n_seeds=2, epochs=8, n_restarts=1, max_samples={n: 400 for n in every},
                      competitor_options=dict(COMPETITORS_SMOKE), paper_epochs=False, n_competitor_seeds=1,
                      competitor_datasets={},
                      n_grid_seeds=2,
                      ablation_datasets=("cub", "synthetic3d"), grid_values=(0.01, 0.1, 1.0),
                      grid_datasets=("synthetic3d",), dominant_datasets=("cub", "synthetic3d"),
                      curve_datasets=("synthetic3d",), snapshot_epochs=(0, 2, 4, 6, 8), tsne_max_points=300)


def _ddmc_gpu(small: bool = False) -> DDMCBudget:
    """Notebook 01 where a GPU makes the full protocol affordable (``benchmarks/gpu_run.sh``): the full profile plus
    the seven deep competitors on every data set with 3 seeds on their authors' schedules (DEMVC's 20 000 clustering
    steps included, so no row is cut), and SiMVC/CoMVC/DDMC with CNN encoders on MNIST-USPS under the paper's run
    selection (20 runs, lowest ``ddc_1``). ``small`` is the same structure at toy sizes for a CPU dry run (CI)."""
    if not small:
        return DDMCBudget("gpu", competitor_options={}, n_deep_competitor_seeds=3, competitor_datasets={},
                          n_selection_runs=20)
    every = DDMC_OUR_DATASETS + DDMC_PAPER_DATASETS
    return DDMCBudget("gpu-small", n_seeds=1, epochs=2, n_restarts=1, max_samples={n: 90 for n in every},
                      competitor_options=dict(COMPETITORS_SMOKE), paper_epochs=False, n_competitor_seeds=1,
                      n_deep_competitor_seeds=2, competitor_datasets={}, n_selection_runs=2, selection_epochs=1,
                      selection_batch_size=30)


def _dm2c(profile: str) -> DM2CBudget:
    if profile == "full":  # the official schedule; MNIST-USPS (not a paper set) capped for the CPU budget
        # the authors' design (4x the parameters of ours): 5 seeds on Wikipedia, 3 on the extra data sets
        return DM2CBudget(profile, dm2c=DM2CConfig(), deep=DeepClusterConfig(), n_seeds=5,
                          max_samples={"mnist-usps": 1000}, dm2c_authors=DM2CConfig.authors(),
                          authors_seeds={"cub": 3, "mnist-usps": 3})
    # smoke: the same networks, 5 % of the epochs
    return DM2CBudget(profile, dm2c=DM2CConfig(pretrain_epochs=10, epochs=11, kmeans_n_init=3),
                      deep=DeepClusterConfig(pretrain_epochs=5, epochs=5, n_init=3), n_seeds=2,
                      default_max_samples=400, kmeans_n_init=3, fractions=(0.2, 0.5), n_fraction_seeds=1,
                      monitor_every=1, tsne_max_points=300,
                      dm2c_authors=DM2CConfig.authors(pretrain_epochs=8, epochs=11, kmeans_n_init=3),
                      authors_seeds={"cub": 1, "mnist-usps": 1})


def _joint(profile: str) -> JointBudget:
    if profile == "full":
        return JointBudget(profile, n_seeds=5, max_samples=None)
    return JointBudget(profile, n_seeds=2, max_samples=400, contrastive=ContrastiveConfig(epochs=15),
                       tsne_max_points=300)


@dataclass(frozen=True)
class DMVAEBudget:
    """Notebook 04: D-MVAE on MNIST-Text (pixels, 28×28) and CUB (GoogLeNet / doc2vec features)."""

    profile: str
    n_seeds: int  # the main table and the diffusion ablation (mean ± std over these)
    image: DMVAEConfig  # networks and schedule on image/text pairs
    features: DMVAEConfig  # networks and schedule on feature/feature pairs
    datasets: tuple[str, ...] = ("mnist", "cub")  # "mnist" = MNIST-Text pairs built from the MNIST test images
    mnist_train: int | None = None  # stratified cap on the 8000 MNIST-Text training pairs (None: all)
    fid_samples: int = 2000  # held-out MNIST-Text pairs whose text is translated into an image for FID
    digit_epochs: int = 3  # the FID feature extractor (our digit CNN), epochs on the MNIST training images
    digit_train: int | None = None  # stratified cap on its 8000 training images (None: all)
    grid_per_cluster: int = 8  # samples per cluster in the figure grids
    tsne_max_points: int = 500

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)

    def config(self, dataset: str) -> DMVAEConfig:
        return self.features if dataset == "cub" else self.image


def _dmvae(profile: str) -> DMVAEBudget:
    diffusion = DiffusionConfig(train_steps=1000, sample_steps=20)
    if profile == "full":
        return DMVAEBudget(
            profile, n_seeds=3, mnist_train=2000, fid_samples=1000,
            image=DMVAEConfig(latent_dim=16, hidden=256, channels=(16, 32), unet_channels=(8, 16), batch_size=64,
                              epochs_recon=8, epochs_align=15, epochs_refine=10, diffusion=diffusion),
            features=DMVAEConfig(latent_dim=10, hidden=256, batch_size=64, epochs_recon=50, epochs_align=100,
                                 epochs_refine=60, diffusion=diffusion))
    smoke = DiffusionConfig(train_steps=1000, sample_steps=5)
    return DMVAEBudget(
        profile, n_seeds=1, mnist_train=400, fid_samples=200, digit_epochs=1, digit_train=2000, grid_per_cluster=4, tsne_max_points=200,
        image=DMVAEConfig(latent_dim=16, hidden=128, channels=(16, 32), unet_channels=(8, 16), batch_size=64,
                          epochs_recon=2, epochs_align=2, epochs_refine=1, diffusion=smoke, snapshot_rows=200,
                          align_warmup=1),
        features=DMVAEConfig(latent_dim=10, hidden=128, batch_size=64, epochs_recon=5, epochs_align=5,
                             epochs_refine=2, diffusion=smoke, snapshot_rows=200, align_warmup=2))


_STUDIES = {"00_data_and_baselines": _baselines, "01_ddmc": _ddmc, "02_dm2c": _dm2c, "03_joint_embedding": _joint,
            "04_dmvae": _dmvae}


#: budgets that only a GPU call runs (``python -m mmc_lib.studies.gpu_runner``), per study: "gpu" is the protocol the
#: GPU makes affordable, "gpu-small" its toy version for a CPU dry run. Not notebook profiles: the cells they make
#: are cached like any other run and loaded by the notebook's own runs where the parameters agree.
GPU_BUDGETS = ("gpu", "gpu-small")


def budget(study: str, profile: str, **changes: Any):
    """The budget of ``study`` (a notebook stem, e.g. ``"01_ddmc"``) under ``profile`` (a profile, or one of
    :data:`GPU_BUDGETS` for the studies that have one), with ``changes`` applied (:func:`with_changes`:
    ``diffusion__steps=100`` sets ``budget.diffusion.steps``).

    >>> budget("01_ddmc", "gpu").n_selection_runs, budget("01_ddmc", "gpu").competitor_seeds("DEMVC")
    (20, (0, 1, 2))
    """
    if study not in _STUDIES:
        raise ValueError(f"unknown study {study!r}; known: {sorted(_STUDIES)}")
    if profile in GPU_BUDGETS:
        if study not in _GPU_STUDIES:
            raise ValueError(f"study {study!r} has no {profile!r} budget; studies with one: {sorted(_GPU_STUDIES)}")
        return with_changes(_GPU_STUDIES[study](small=profile == "gpu-small"), **changes)
    check_profile(profile)
    return with_changes(_STUDIES[study](profile), **changes)


def with_changes(obj, **changes: Any):
    """A copy of the frozen dataclass ``obj`` with fields replaced; a key ``a__b`` replaces field ``b`` of the
    dataclass held in field ``a`` (any depth). An unknown field raises ValueError naming the known ones.

    >>> with_changes(DiffusionConfig(), sample_steps=5).sample_steps
    5
    """
    if not changes:
        return obj
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise ValueError(f"cannot change {sorted(changes)} of {type(obj).__name__}: it is not a dataclass")
    names = [f.name for f in dataclasses.fields(obj)]
    direct: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in changes.items():
        head, _, rest = key.partition("__")
        if head not in names:
            raise ValueError(f"{type(obj).__name__} has no field {head!r}; fields: {names}")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, sub in nested.items():
        if head in direct:
            raise ValueError(f"both {head!r} and {head}__… given; change one or the other")
        direct[head] = with_changes(getattr(obj, head), **sub)
    return dataclasses.replace(obj, **direct)


# --- notebook 05


@dataclass(frozen=True)
class TreeDiffusionBudget:
    """Notebook 05: TreeVAE clustering and cluster-conditioned diffusion on MNIST test images (8k train / 2k held out)."""

    profile: str
    n_seeds: int = 3  # every table is mean ± std over these seeds
    max_train: int | None = None  # stratified cap on the 8k training images (None: all)
    n_clusters: int = 10  # effective leaves (the paper: 10 on MNIST)
    max_depth: int = 6
    tree: TreeVAEConfig = field(default_factory=TreeVAEConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)  # flat VAE + k-means baseline
    diffusion: TreeDiffusionConfig = field(default_factory=TreeDiffusionConfig)
    extractor_epochs: int = 3  # the FID digit classifier
    n_generate: int = 1000  # generations per model for the overall FID (vs the held-out images)
    n_per_leaf: int = 100  # generations per leaf (per-leaf FID/KID and consistency)
    n_curve: int = 256  # generations per point of the denoiser's FID/KID curve (≥ 128 feature dims: FID is defined)
    max_test: int | None = None  # held-out images used as FID reals (None: all 2000)
    kmeans_n_init: int = 10
    tsne_max_points: int = 2000
    n_jobs: int = 1  # seeds fitted in parallel (each fit on one thread)

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)


#: notebook 05, full profile: the denoiser's optimiser steps. Planned from a timing of the UNet alone on the busy
#: machine (2026-12-03: 1.0 CPU-s per training step of batch 128 with widths 16/32/64 on one thread, 2.1 CPU-s per 500
#: images per DDIM step) so that two seeds (TreeVAE, denoiser, FID curve, sampling) fit the notebook's 60 minutes on
#: 2 shared cores; the run took 2975 s at load ≈ 5, its curves still falling (``benchmarks/bench_treediffusion.py``
#: prints such a curve for any step count)
TREEDIFFUSION_CPU_STEPS = 800


def _treediffusion(profile: str) -> TreeDiffusionBudget:
    if profile == "full":  # sized for ≤ 60 min on 2 shared CPU cores, two seeds at once (see notebook 05)
        steps = TREEDIFFUSION_CPU_STEPS
        return TreeDiffusionBudget(
            profile, n_seeds=2, tree=TreeVAEConfig(epochs=15, split_epochs=6, finetune_epochs=3, final_epochs=10),
            vae=VAEConfig(epochs=30),
            diffusion=TreeDiffusionConfig(channels=(16, 32, 64), steps=steps, batch_size=128, lr=1e-3, lr_warmup=100,
                                          grad_clip=1.0, ema_decay=0.995, log_every=25, eval_every=steps // 4,
                                          diffusion=DiffusionConfig(train_steps=1000, sample_steps=50)),
            n_generate=500, n_per_leaf=30, n_curve=200, n_jobs=2)
    return TreeDiffusionBudget(
        profile, n_seeds=2, max_train=1000, n_clusters=4, max_depth=3,
        tree=TreeVAEConfig(epochs=3, split_epochs=2, finetune_epochs=1, final_epochs=2, batch_size=128),
        vae=VAEConfig(epochs=3, batch_size=128, kmeans_n_init=3),
        diffusion=TreeDiffusionConfig(channels=(8, 16), steps=20, batch_size=32, lr_warmup=5, log_every=5,
                                      eval_every=10, diffusion=DiffusionConfig(train_steps=1000, sample_steps=4)),
        extractor_epochs=1, n_generate=200, n_per_leaf=25, n_curve=64, max_test=500, kmeans_n_init=3,
        tsne_max_points=300)


_STUDIES["05_treediffusion"] = _treediffusion

#: the denoiser's schedule in the authors' code (JoGo175/TreeDiffusion, ``configs/mnist.yml``, ``ddpm:``): batch 256,
#: 1000 epochs, Adam at 2e-4 with a 5000-step warm-up, gradient clipping at 1, EMA weights (0.9999), 1000 diffusion
#: steps, UNet base width 64. On our 8k training images 1000 epochs are 1000 · ⌈8000 / 256⌉ = 32 000 steps. They
#: sample with 1000 ancestral DDPM steps; we use 100 DDIM steps. Not reproduced: the UNet's four levels with attention
#: at 16 px (ours: three, 28 → 14 → 7 px, attention at 7 px) and its dropout 0.3
TREEDIFFUSION_PAPER_STEPS = 1000 * -(-8000 // 256)


def _treediffusion_gpu(small: bool = False) -> TreeDiffusionBudget:
    """Notebook 05 on a GPU: the full profile's TreeVAE, the denoiser at the authors' schedule (see
    :data:`TREEDIFFUSION_PAPER_STEPS`). ``small``: the smoke budget (a CPU dry run)."""
    if small:
        return replace(_treediffusion("smoke"), profile="gpu-small")
    full = _treediffusion("full")
    paper = TreeDiffusionConfig(channels=(64, 128, 128), steps=TREEDIFFUSION_PAPER_STEPS, batch_size=256, lr=2e-4,
                                lr_warmup=5000, grad_clip=1.0, ema_decay=0.9999, log_every=250, eval_every=4000,
                                diffusion=DiffusionConfig(train_steps=1000, sample_steps=100))
    return replace(full, profile="gpu", n_seeds=3, diffusion=paper, n_generate=1000, n_per_leaf=100, n_curve=1000,
                   n_jobs=1)


_GPU_STUDIES = {"01_ddmc": _ddmc_gpu, "05_treediffusion": _treediffusion_gpu}

# --- notebook 06

#: notebook 06's real sets: the generalisation suite (no paper uses them), then our five stand-ins
def selection_option(b) -> dict:
    """``run_deep``'s keywords for a budget's ``selection`` (none for the default "objective", so that older cache
    keys stay), or ``ValueError`` naming the known rules.

    >>> selection_option(GeneralisationBudget("x")), selection_option(GeneralisationBudget("x", selection="ddc1"))
    ({}, {'selection': 'ddc1', 'checkpoint_every': 4})
    """
    if b.selection not in ("objective", "ddc1"):
        raise ValueError(f"unknown selection {b.selection!r}; known: 'objective', 'ddc1'")
    return {} if b.selection == "objective" else {"selection": b.selection, "checkpoint_every": b.checkpoint_every}


GENERALISATION_DATASETS = ("3sources", "bbcsport", "bdgp", "100leaves", "ngs", "webkb")
GENERALISATION_ALL = GENERALISATION_DATASETS + ("mnist-usps", "synthetic3d", "prokaryotic", "wikipedia", "cub")


@dataclass(frozen=True)
class GeneralisationBudget:
    """Notebook 06: every affordable multi-view method on eleven real sets, with the defaults of notebooks 00/01.

    Cuts in the full profile (2-core CPU, 60 minutes for the notebook): SiMVC/CoMVC/DDMC keep the 100 epochs of
    notebook 01 but one restart (notebook 01: two); MNIST-USPS is a stratified 2000-row subsample; the deep
    competitors EAMC, DIVIDE and SCMVC run one seed on 3Sources only (the smallest set); DEMVC, MFLVC, SEM and
    SSLNMVC are left out (their authors' schedules cost minutes per fit even on 600 rows: notebook 01)."""

    profile: str
    datasets: tuple[str, ...] = GENERALISATION_ALL
    n_seeds: int = 3
    epochs: int = 100  # SiMVC / CoMVC / DDMC, as notebook 01
    n_restarts: int = 1
    #: SiMVC / CoMVC / DDMC's choice among their ``n_restarts`` runs: "objective" (the lowest final objective, last
    #: epoch) or "ddc1" (the SiMVC/CoMVC paper's: each run checkpointed at its lowest eval ddc_1, the lowest kept)
    selection: str = "objective"
    checkpoint_every: int = 4  # selection="ddc1": epochs between ddc_1 checks (the reference code's 4)
    max_samples: dict = field(default_factory=lambda: {"mnist-usps": 2000})  # stratified row caps per data set
    default_max_samples: int | None = None  # cap for every other data set (None: all rows)
    classical: tuple[str, ...] = ("KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC")
    competitors: tuple[str, ...] = ("RMKMC", "SwMC", "ONMSC", "SMCMB")  # classical rows of notebook 01
    competitor_options: dict = field(default_factory=dict)  # constructor keywords (full: the authors' defaults)
    deep: tuple[str, ...] = ("SiMVC", "CoMVC", "DDMC")
    #: deep competitors: the data sets each runs on, one seed (see the class docstring)
    deep_competitors: dict = field(default_factory=lambda: {m: ("3sources",) for m in ("EAMC", "DIVIDE", "SCMVC")})
    n_deep_competitor_seeds: int = 1
    alpha: float = 0.1  # DDMC defaults of notebook 01, not tuned on labels
    beta: float = 0.1
    rope: float = 0.01  # Bayesian signed-rank: ACC differences within ±1 point count as equivalent
    alpha_test: float = 0.05  # significance level of the Friedman / Nemenyi tests

    def seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_seeds)

    def deep_competitor_seeds(self, seed: int = 0) -> tuple[int, ...]:
        return _seeds(seed, self.n_deep_competitor_seeds)

    def cap(self, dataset: str) -> int | None:
        return self.max_samples.get(dataset, self.default_max_samples)

    @property
    def ranked_methods(self) -> tuple[str, ...]:
        """The methods that run on every data set and seed (the rank table and the tests)."""
        return self.classical + self.competitors + self.deep


def _generalisation(profile: str) -> GeneralisationBudget:
    if profile == "full":
        return GeneralisationBudget(profile)
    # smoke: 2 sets (the smallest of each suite), 1 seed, 200 rows, a few epochs, the short competitor schedules
    return GeneralisationBudget(profile, datasets=("3sources", "synthetic3d"), n_seeds=1, epochs=4,
                                default_max_samples=200,
                                competitor_options={m: COMPETITORS_SMOKE[m]
                                                    for m in ("RMKMC", "SwMC", "ONMSC", "SMCMB", "EAMC", "DIVIDE",
                                                              "SCMVC")})


_STUDIES["06_generalisation"] = _generalisation
