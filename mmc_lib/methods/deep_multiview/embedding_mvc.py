"""Shared ``fit`` plumbing for deep multi-view methods that cluster a learned embedding with k-means
(SCMVC, DIVIDE, SSLNMVC): validation, seeding, restarts chosen by the lowest final training objective (never by
labels), optional per-epoch ACC/NMI logging, ``labels_`` / ``history_`` / ``embedding_``.

A subclass sets ``config_class`` and implements two hooks (inputs already validated):

* ``_train(tensors, k, config, generator, log) -> (model, history)`` — trains on the shared loop
  (:func:`mmc_lib.nn.train`) and calls ``log(model, epoch, record)`` from its ``on_epoch`` hook;
* ``_embed(model, tensors) -> np.ndarray`` — the ``(n, d)`` embedding k-means clusters (the model in eval mode).

``_labels(model, tensors, embedding, k, config)`` defaults to k-means on the embedding; a method with its own
cluster head (SSLNMVC) overrides it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from sklearn.cluster import KMeans

from mmc_lib.metrics import accuracy, nmi
from mmc_lib.nn import Hooks, adam, minibatches, seeded, to_device_views, train
from mmc_lib.runtime import one_thread, resolve_device
from mmc_lib.validation import check_n_clusters, check_views


def kmeans_labels(embedding: np.ndarray, k: int, *, n_init: int, seed: int) -> np.ndarray:
    """k-means labels of ``embedding`` (the best of ``n_init`` starts by inertia; seeded)."""
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(embedding).astype(np.int64)


class EmbeddingMVCEstimator:
    """``Cls(n_clusters, *, seed=0, device="cpu", config=None)``; ``fit(views, y=None)``, ``fit_predict(views)``.

    ``y`` is used ONLY to log ACC/NMI per epoch in ``history_``; it never touches training or selection.
    """

    config_class: type = object
    min_views = 2

    def __init__(self, n_clusters: int, *, seed: int = 0, device: str = "cpu", config=None):
        self.n_clusters = n_clusters
        self.seed = seed
        self.device = device
        self.config = config

    # -- public -------------------------------------------------------------------------------------------
    @one_thread
    def fit(self, views, y=None):
        """Cluster the samples of ``views`` (a list of ``(n, d_m)`` arrays, one row per sample)."""
        views = check_views(views, min_views=self.min_views)
        k = check_n_clusters(self.n_clusters, views[0].shape[0])
        config = self.config or self.config_class()
        if not isinstance(config, self.config_class):
            raise TypeError(f"config must be a {self.config_class.__name__}, got {type(config).__name__}")
        tensors = to_device_views(self._preprocess(views, config), resolve_device(self.device))
        y = None if y is None else np.asarray(y)
        runs = []
        for restart in range(config.n_restarts):
            with seeded(1000 * int(self.seed) + restart) as generator:
                model, history = self._train(tensors, k, config, generator, self._logger(tensors, k, config, y))
            runs.append((model, history))
        self.restart_objectives_ = [h[-1]["objective"] if h else float("inf") for _, h in runs]
        self.model_, self.history_ = runs[int(np.argmin(self.restart_objectives_))]  # unsupervised selection
        self.embedding_ = self._embed_eval(self.model_, tensors)
        self.labels_ = self._labels(self.model_, tensors, self.embedding_, k, config)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    # -- hooks --------------------------------------------------------------------------------------------
    def _preprocess(self, views: list[np.ndarray], config) -> list[np.ndarray]:
        """Per-method input scaling (default: none; our loaders already min-max scale every view)."""
        return views

    def _train(self, tensors, k: int, config, generator: torch.Generator, log: Callable):
        raise NotImplementedError  # pragma: no cover - abstract

    def _embed(self, model: torch.nn.Module, tensors) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _labels(self, model, tensors, embedding: np.ndarray, k: int, config, *, n_init: int | None = None) -> np.ndarray:
        return kmeans_labels(embedding, k, n_init=n_init or config.kmeans_n_init, seed=int(self.seed))

    # -- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _pretrain_then_contrast(model: torch.nn.Module, tensors, config, generator: torch.Generator, log: Callable,
                                contrast: Callable) -> list[dict]:
        """SCMVC's and SSLNMVC's schedule on one Adam: ``config.pretrain_epochs`` of ``model.reconstruction``, then
        ``config.epochs`` of ``contrast(batch)`` (logged); the history numbers epochs across both phases."""
        optimiser = adam(model.parameters(), lr=config.lr, config=config)
        n, device = tensors[0].shape[0], tensors[0].device

        def batches():
            return minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True)

        pre = train(lambda idx, e: model.reconstruction([t[idx] for t in tensors]), optimiser, batches,
                    config.pretrain_epochs, module=model, limit=config.divergence_limit)
        con = train(lambda idx, e: contrast([t[idx] for t in tensors]), optimiser, batches, config.epochs,
                    module=model, hooks=Hooks(on_epoch=lambda e, r: log(model, e, r)), limit=config.divergence_limit)
        history = [{**r, "phase": "pretrain"} for r in pre]
        return history + [{**r, "epoch": r["epoch"] + config.pretrain_epochs, "phase": "contrast"} for r in con]

    @torch.no_grad()
    def _embed_eval(self, model: torch.nn.Module, tensors) -> np.ndarray:
        was_training = model.training
        model.eval()
        emb = self._embed(model, tensors)
        model.train(was_training)
        return emb

    def _logger(self, tensors, k: int, config, y) -> Callable[[torch.nn.Module, int, dict], None]:
        """``log(model, epoch, record)``: adds ACC/NMI of the current labels when ``y`` is given (monitoring only;
        k-means with at most 10 starts to keep it cheap). Epoch 0 (before training) is not logged."""

        def log(model: torch.nn.Module, epoch: int, record: dict) -> None:
            if y is None or epoch == 0:
                return
            emb = self._embed_eval(model, tensors)
            pred = self._labels(model, tensors, emb, k, config, n_init=min(10, config.kmeans_n_init))
            record["acc"], record["nmi"] = accuracy(y, pred), nmi(y, pred)

        return log
