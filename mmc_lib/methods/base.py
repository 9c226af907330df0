"""The one base of the deep multi-view estimators: everything a fit does that is not the method itself.

:class:`DeepEstimator` owns

* **validation** — the views (:func:`~mmc_lib.validation.check_views`), the number of clusters, the config's type;
* **configuration** — ``Cls(k, config=Config(...))`` or ``Cls(k, field=value, ...)`` (keywords replace fields of
  ``config``, or of the default config);
* **seeding** — each run inside :func:`mmc_lib.nn.seeded`, so the caller's torch generator is left untouched: an
  estimator whose config has ``n_restarts`` seeds restart ``r`` with ``1000·seed + r``; one without seeds its
  single run with ``seed``;
* **runs (restarts) and the label-free choice among them** (``config.selection``, :data:`SELECTIONS`):
  ``"objective"`` (default) keeps the run with the lowest final training objective, last epoch; ``"ddc1"`` (models
  with a DDC head) is the SiMVC/CoMVC paper's protocol: each run checkpointed at its lowest eval ``ddc_1``
  (:func:`eval_ddc1`, every ``config.checkpoint_every`` epochs and the last) and the run with the lowest ``ddc_1``
  kept (:func:`select_run`). ``y`` given to ``fit`` is used ONLY to log ACC/NMI in ``history_``; it never touches
  training, the checkpoints or the choice among runs;
* **device** (``"cpu"``, ``"cuda"``, ``"auto"``) and CPU threads (``config.n_threads``, default 1);
* **results** — ``model_``, ``history_`` (one record per epoch), ``labels_``, ``embedding_``, ``assignments_``
  (when the model has a cluster head); when the config has restarts, ``restart_objectives_``, ``run_scores_`` (each
  run's selection criterion), ``checkpoint_epochs_`` (the epoch each run's kept weights come from) and
  ``selected_run_``; and
  ``NotFittedError`` from :meth:`DeepEstimator._check_fitted` before ``fit``.

A subclass sets ``config_class`` and implements ``_train(tensors, k, config, generator, y) -> Run`` (its network,
losses and schedule, on :mod:`mmc_lib.nn.trainer`); it may override ``_represent(model, tensors)`` (default: the
model's ``represent(views) -> (embedding, assignments)``, in chunks), ``_check_params(views, config)`` and
``_preprocess(views, config)``. Labels are the ``argmax`` of the assignments, or k-means on the embedding for a
model without a cluster head (``config.kmeans_n_init`` starts, seeded by ``seed``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import nn

from mmc_lib.metrics import accuracy, nmi
from mmc_lib.nn import BestCheckpoint, seeded, to_device_views, train_module
from mmc_lib.runtime import one_thread, resolve_device
from mmc_lib.validation import check_fitted, check_n_clusters, check_views

__all__ = ["DeepEstimator", "Run", "SELECTIONS", "eval_ddc1", "select_run", "kmeans_labels", "torch_threads"]

#: label-free rules that choose among runs (``config.selection``)
SELECTIONS = ("objective", "ddc1")


@dataclass
class Run:
    """One trained run: the model, its history, its selection score and fitted attributes kept if it is selected."""

    model: nn.Module
    history: list[dict]
    fitted: dict = field(default_factory=dict)  # e.g. {"snapshots_": {...}}: set on the estimator if selected
    score: float | None = None  # the selection criterion (None: the objective)
    checkpoint_epoch: int | None = None  # the epoch the kept weights come from (None: the last one)

    @property
    def objective(self) -> float:
        """The last ``objective`` the history recorded (``inf`` if none)."""
        return next((float(r["objective"]) for r in reversed(self.history) if "objective" in r), math.inf)


@torch.no_grad()
def eval_ddc1(module: nn.Module, tensors: list[torch.Tensor], batch_size: int) -> float:
    """The mean ``ddc_1`` (DDC's Cauchy–Schwarz divergence between clusters) of ``module.losses`` over all rows in
    eval mode, in consecutive batches of ``batch_size`` — the reference code's ``eval_losses/ddc_1``
    (``evaluate.batch_predict``: only full batches count; here one batch of all rows when there is no full one).

    Label free: it sees the views only. Random draws inside ``losses`` (CoMVC's negatives, DDMC's vCLUB) happen under
    a fixed seed of a forked generator, so neither the value nor the training's random stream depends on when it is
    called. The module's train/eval mode is restored.
    """
    n = tensors[0].shape[0]
    size = n if n < batch_size else batch_size
    was_training = module.training
    module.eval()
    values = []
    with seeded(0):
        for start in range(0, n - size + 1, size):
            values.append(float(module.losses([t[start:start + size] for t in tensors])["ddc1"]))
    module.train(was_training)
    return float(np.mean(values))


def select_run(scores: list[float]) -> int:
    """Index of the run to keep: the lowest score (ties: the first run); a label-free criterion only, NaN loses.

    >>> select_run([0.3, 0.1, 0.2]), select_run([float("nan"), 0.5])
    (1, 1)
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"select_run needs a non-empty list of scores, got {scores!r}")
    return int(np.argmin(np.where(np.isnan(values), np.inf, values)))


def kmeans_labels(embedding: np.ndarray, k: int, *, n_init: int, seed: int) -> np.ndarray:
    """k-means labels of ``embedding`` (the best of ``n_init`` starts by inertia; seeded)."""
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(embedding).astype(np.int64)


@contextmanager
def torch_threads(n: int):
    """Run the block on ``n`` torch CPU threads (intra-op), restoring the count afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_config(config_class: type, config, overrides: dict):
    """``config`` (default: ``config_class()``) with the ``overrides`` fields replaced; ``TypeError`` for the wrong
    type or an unknown field, the config's own ``ValueError`` for a bad value."""
    config = config_class() if config is None else config
    if not isinstance(config, config_class):
        raise TypeError(f"config must be a {config_class.__name__}, got {type(config).__name__}")
    return replace(config, **overrides) if overrides else config


class DeepEstimator:
    """``Cls(n_clusters, *, seed=0, device="cpu", config=None, **config_fields)``; ``fit(views, y=None)``,
    ``fit_predict(views, y=None)``."""

    config_class: type = object
    min_views = 2

    def __init__(self, n_clusters: int, *, seed: int = 0, device: str = "cpu", config=None, **overrides):
        self.n_clusters = n_clusters
        self.seed = seed
        self.device = device
        self.config = resolve_config(self.config_class, config, overrides)

    # -- public -------------------------------------------------------------------------------------------
    @one_thread
    def fit(self, views, y=None):
        """Cluster the samples of ``views`` (a list of ``(n, d_m)`` arrays, one row per sample).

        ``y`` is optional and used ONLY to log ACC/NMI per epoch in ``history_``; it never touches training, the
        checkpoints or the choice among runs.
        """
        views = check_views(views, min_views=self.min_views)
        k = check_n_clusters(self.n_clusters, views[0].shape[0])
        config = resolve_config(self.config_class, self.config, {})
        self._check_params(views, config)
        tensors = to_device_views(self._preprocess(views, config), resolve_device(self.device))
        y = None if y is None else np.asarray(y)
        n_restarts = getattr(config, "n_restarts", None)
        runs = []
        with torch_threads(getattr(config, "n_threads", 1)):
            for restart in range(n_restarts or 1):
                seed = int(self.seed) if n_restarts is None else 1000 * int(self.seed) + restart
                with seeded(seed) as generator:
                    runs.append(self._train(tensors, k, config, generator, y))
        scores = [run.objective if run.score is None else run.score for run in runs]
        chosen = select_run(scores)
        best = runs[chosen]
        if n_restarts is not None:
            self.restart_objectives_ = [run.objective for run in runs]
            self.run_scores_ = scores  # each run's selection criterion (label free)
            self.checkpoint_epochs_ = [run.history[-1]["epoch"] if run.checkpoint_epoch is None and run.history
                                       else run.checkpoint_epoch for run in runs]
            self.selected_run_ = chosen
        self.model_, self.history_ = best.model, best.history
        for name, value in best.fitted.items():
            setattr(self, name, value)
        embedding, assignments = self._represent(self.model_, tensors)
        self.embedding_ = embedding
        if assignments is not None:
            self.assignments_ = assignments
        self.labels_ = np.asarray(self._labels(embedding, assignments, k, config), dtype=np.int64)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    # -- what a subclass provides ---------------------------------------------------------------------------
    def _train(self, tensors, k: int, config, generator: torch.Generator, y) -> Run:  # pragma: no cover - abstract
        """One run: build the network, train it on :mod:`mmc_lib.nn.trainer`, return it with its history."""
        raise NotImplementedError

    def _check_params(self, views: list[np.ndarray], config) -> None:
        """Parameter checks that need the data (e.g. a view index)."""

    def _preprocess(self, views: list[np.ndarray], config) -> list[np.ndarray]:
        """Per-method input scaling (default: none; our loaders already min-max scale every view)."""
        return views

    @torch.no_grad()
    def _represent(self, model: nn.Module, tensors, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray | None]:
        """Embedding and assignments of all rows from ``model.represent``, ``chunk`` rows at a time in eval mode
        (exact, and a CNN's feature maps of a few thousand images need not sit in memory at once)."""
        model.eval()
        parts = [model.represent([t[i:i + chunk] for t in tensors]) for i in range(0, tensors[0].shape[0], chunk)]
        return torch.cat([p[0] for p in parts]).cpu().numpy(), torch.cat([p[1] for p in parts]).cpu().numpy()

    # -- shared steps -------------------------------------------------------------------------------------------
    def _labels(self, embedding: np.ndarray, assignments: np.ndarray | None, k: int, config, *,
                monitoring: bool = False) -> np.ndarray:
        """``argmax`` of the assignments; without a cluster head, k-means on the embedding (at most 10 starts while
        monitoring, to keep the per-epoch log cheap)."""
        if assignments is not None:
            return assignments.argmax(axis=1)
        n_init = min(10, config.kmeans_n_init) if monitoring else config.kmeans_n_init
        return kmeans_labels(embedding, k, n_init=n_init, seed=int(self.seed))

    def _monitor(self, model: nn.Module, tensors, k: int, config, y, *, every: int = 1, last: int | None = None,
                 snapshot_epochs: tuple[int, ...] = (), snapshots: dict | None = None) -> Callable[[int, dict], None]:
        """An ``on_epoch`` hook: with ``y``, adds ACC/NMI of the current labels to the record every ``every`` epochs
        (and at epoch ``last``); keeps the embedding at ``snapshot_epochs`` in ``snapshots``. Monitoring only."""

        def on_epoch(epoch: int, record: dict) -> None:
            log = y is not None and epoch > 0 and (epoch % every == 0 or epoch == last)
            if not log and epoch not in snapshot_epochs:
                return
            embedding, assignments = self._represent(model, tensors)
            if epoch in snapshot_epochs and snapshots is not None:
                snapshots[epoch] = embedding
            if log:
                self._log(self._labels(embedding, assignments, k, config, monitoring=True), y, record)

        return on_epoch

    @staticmethod
    def _log(pred: np.ndarray, y: np.ndarray | None, record: dict) -> None:
        if y is not None:
            record["acc"], record["nmi"] = accuracy(y, pred), nmi(y, pred)

    def _train_module(self, model: nn.Module, tensors, k: int, config, generator: torch.Generator, y, *,
                      snapshot_epochs: tuple[int, ...] = ()) -> Run:
        """The common schedule: ``model.losses(batch)`` by Adam on mini-batches (:func:`mmc_lib.nn.train_module`),
        monitored every ``config.eval_every`` epochs, embeddings kept at ``snapshot_epochs``; with
        ``config.selection == "ddc1"``, checkpointed at its lowest eval ``ddc_1`` (:func:`eval_ddc1`)."""
        snapshots: dict[int, np.ndarray] = {}
        hooks = [self._monitor(model, tensors, k, config, y, every=getattr(config, "eval_every", 1), last=config.epochs,
                               snapshot_epochs=snapshot_epochs, snapshots=snapshots)]
        checkpoint = None
        if getattr(config, "selection", "objective") == "ddc1":
            checkpoint = BestCheckpoint(model, lambda: eval_ddc1(model, tensors, config.batch_size),
                                        every=config.checkpoint_every, last_epoch=config.epochs, key="eval_ddc1")
            hooks.append(checkpoint)

        def on_epoch(epoch: int, record: dict) -> None:
            for hook in hooks:
                hook(epoch, record)

        history = train_module(model, tensors, config.trainer(), generator=generator, on_epoch=on_epoch)
        run = Run(model, history, {"snapshots_": snapshots})
        if checkpoint is not None:
            checkpoint.restore()
            run.score, run.checkpoint_epoch = checkpoint.best_score, checkpoint.best_epoch
        return run

    def _check_fitted(self, how: str = "fit(views)") -> None:
        """scikit-learn's ``NotFittedError`` before ``fit``."""
        check_fitted(self, "model_", how)
