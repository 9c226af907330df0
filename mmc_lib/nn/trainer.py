"""The one mini-batch training loop of every deep model (in the spirit of minGPT's ``trainer.py``).

The loop knows nothing about models: it draws batches, asks ``loss_fn(batch, epoch)`` for a dict of named
scalar terms including ``"total"`` (the one back-propagated), steps the optimiser and averages every term
over the epoch. What differs between models is passed as :class:`Hooks`: work before an epoch (refresh a
target, stop early), after a step (move centres, clip weights), after an epoch (monitor, keep the best
state: :class:`BestCheckpoint` keeps the weights at the lowest of a label-free score checked every few epochs).
Epochs are numbered from 1; ``on_epoch(0, {})`` runs once before training. ``grad_clip`` caps the gradients' norm
before each step. A model trained by steps rather than passes (TreeDiffusion's denoiser) makes every epoch one step
on one drawn batch, so that ``on_epoch`` follows each step with its number (warm-up, EMA, a periodic evaluation).

:func:`train_module` is the common case: a module with ``losses(batch) -> dict`` trained with Adam on
row-aligned tensors (the optimiser from :func:`mmc_lib.nn.optim.adam`, the one factory every deep model
uses). :func:`seeded` is the one way a fit seeds torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from mmc_lib.nn.batches import minibatches
from mmc_lib.nn.optim import adam, check_impl


@dataclass(frozen=True)
class TrainerConfig:
    """Optimisation schedule."""

    epochs: int = 100  # passes over the data
    batch_size: int = 256  # rows per step; the whole data set stays on the device
    lr: float = 1e-3  # Adam learning rate
    weight_decay: float = 0.0  # Adam's L2 penalty
    divergence_limit: float = 1e8  # a term beyond this (or NaN/inf) stops training with an error
    #: torch's Adam implementation (:mod:`mmc_lib.nn.optim`): "foreach" (the numbers of "single"; faster on a GPU),
    #: "fused" (fastest, rounding differs), "single"; None = the current default ("foreach")
    optimizer_impl: str | None = None

    def __post_init__(self):
        from mmc_lib.validation import check_config

        check_config(self, at_least={"epochs": 0, "batch_size": 2})
        if self.optimizer_impl is not None:
            check_impl(self.optimizer_impl)


@dataclass
class Hooks:
    """Model-specific steps of the loop; every field is optional."""

    before_epoch: Callable[[int], bool | None] | None = None  # before each epoch; returning False stops training
    after_step: Callable[[Any], None] | None = None  # after each optimiser step, with the batch
    on_epoch: Callable[[int, dict], None] | None = None  # after each epoch (eval mode, no grad); may add to the record
    batch_weight: Callable[[Any], int] | None = None  # average each term weighted by this (default: every batch 1)


class BestCheckpoint:
    """An ``on_epoch`` hook that keeps a module's weights at its lowest score (the reference SiMVC/CoMVC code's
    ``ModelSaver(best_loss_term=...)``): every ``every`` epochs, and at ``last_epoch``, ``score()`` is evaluated
    (the loop calls ``on_epoch`` in eval mode without gradients) and written to the epoch's record as ``key``; a
    strictly lower finite score than any before replaces the kept copy of ``module.state_dict()`` (BatchNorm
    statistics included). :meth:`restore` loads the kept weights back after training.

    >>> m = torch.nn.Linear(1, 1)
    >>> scores = iter([3.0, 1.0, 2.0])
    >>> ckpt = BestCheckpoint(m, lambda: next(scores), every=2, last_epoch=6)
    >>> for epoch in range(7):
    ...     with torch.no_grad():
    ...         _ = m.weight.fill_(epoch)
    ...     ckpt(epoch, {})
    >>> ckpt.best_epoch, ckpt.best_score, float(ckpt.restore().weight.detach())
    (4, 1.0, 4.0)
    """

    def __init__(self, module: torch.nn.Module, score: Callable[[], float], *, every: int, last_epoch: int,
                 key: str = "checkpoint_score"):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int (epochs between checks), got {every!r}")
        self.module, self.score, self.every, self.last_epoch, self.key = module, score, every, last_epoch, key
        self.best_score, self.best_epoch = math.inf, None
        self._state: dict[str, torch.Tensor] | None = None

    def due(self, epoch: int) -> bool:
        """Whether ``epoch`` is a check: a multiple of ``every``, or the last one (never epoch 0, before training)."""
        return epoch > 0 and (epoch % self.every == 0 or epoch == self.last_epoch)

    def __call__(self, epoch: int, record: dict) -> None:
        if not self.due(epoch):
            return
        value = float(self.score())
        record[self.key] = value
        if math.isfinite(value) and value < self.best_score:
            self.best_score, self.best_epoch = value, epoch
            self._state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}

    def restore(self) -> torch.nn.Module:
        """Load the kept weights into the module (unchanged when no check gave a finite score) and return it."""
        if self._state is not None:
            self.module.load_state_dict(self._state)
        return self.module


@contextmanager
def seeded(seed: int):
    """Seed torch for one fit and yield the generator that orders its batches.

    The caller's global RNG state is restored afterwards (``fork_rng``), so fitting a model never changes
    the random numbers the caller draws next.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)


def check_finite_losses(losses: Mapping[str, torch.Tensor], *, epoch: int, limit: float = 1e8) -> None:
    """Raise ``FloatingPointError`` naming the term when a loss is NaN/inf or explodes past ``limit``."""
    for name, value in losses.items():
        v = float(value.detach())
        if not math.isfinite(v) or abs(v) > limit:
            raise FloatingPointError(f"loss term {name!r} diverged at epoch {epoch}: {v}")


def step(optimiser: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One gradient step of ``optimiser`` on ``loss`` (zero the gradients, back-propagate, step); returns the loss.

    For a second player updated inside a hook of :func:`train` (D-MVAE's discriminators after each decoder step),
    so that every ``backward()`` of the library stays in this package.

    >>> w = torch.nn.Parameter(torch.ones(1))
    >>> step(adam([w], lr=0.25), (w ** 2).sum()), float(w.detach())  # Adam's first step moves by lr
    (1.0, 0.75)
    """
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return float(loss.detach())


def run_epoch(loss_fn: Callable[[Any, int], dict], optimiser: torch.optim.Optimizer, batches: Iterable, *,
              epoch: int, limit: float = 1e8, hooks: Hooks | None = None,
              grad_clip: float | None = None) -> dict[str, float]:
    """One pass over ``batches``: a step per batch; returns each term's mean over the batches that had it.

    ``grad_clip``: before each step, scale the gradients of the optimiser's parameters down to this total norm
    (``torch.nn.utils.clip_grad_norm_``); ``None``: no clipping."""
    hooks = hooks or Hooks()
    params = [p for group in optimiser.param_groups for p in group["params"]] if grad_clip is not None else None
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    for batch in batches:
        terms = loss_fn(batch, epoch)
        check_finite_losses(terms, epoch=epoch, limit=limit)
        optimiser.zero_grad(set_to_none=True)
        terms["total"].backward()
        if params is not None:
            torch.nn.utils.clip_grad_norm_(params, grad_clip)
        optimiser.step()
        if hooks.after_step is not None:
            hooks.after_step(batch)
        w = hooks.batch_weight(batch) if hooks.batch_weight is not None else None
        for name, value in terms.items():
            v = float(value.detach())
            sums[name] = sums.get(name, 0.0) + (v if w is None else v * w)
            weights[name] = weights.get(name, 0) + (1 if w is None else w)
    return {name: s / max(weights[name], 1) for name, s in sums.items()}


def train(loss_fn: Callable[[Any, int], dict], optimiser: torch.optim.Optimizer, batches: Callable[[], Iterable],
          epochs: int, *, module: torch.nn.Module | None = None, hooks: Hooks | None = None,
          limit: float = 1e8, grad_clip: float | None = None) -> list[dict]:
    """Run ``epochs`` epochs of :func:`run_epoch` over ``batches()`` (a fresh, reshuffled iterable per epoch).

    ``module`` (optional) is put in train mode for each epoch and in eval mode for ``on_epoch``; ``grad_clip`` as in
    :func:`run_epoch`.
    Returns the history: one record per epoch, ``{"epoch": e, <term>: mean, ...}`` plus what ``on_epoch`` adds.
    """
    hooks = hooks or Hooks()
    history: list[dict] = []
    if hooks.on_epoch is not None:
        _call_in_eval(module, hooks.on_epoch, 0, {})
    for epoch in range(1, epochs + 1):
        if hooks.before_epoch is not None and hooks.before_epoch(epoch) is False:
            break
        if module is not None:
            module.train()
        record = {"epoch": epoch, **run_epoch(loss_fn, optimiser, batches(), epoch=epoch, limit=limit, hooks=hooks,
                                              grad_clip=grad_clip)}
        if hooks.on_epoch is not None:
            _call_in_eval(module, hooks.on_epoch, epoch, record)
        history.append(record)
    return history


def train_stages(stages: Sequence[tuple[str, Callable, Callable, int, Hooks | None]], optimiser: torch.optim.Optimizer,
                 module: torch.nn.Module | None = None, *, limit: float = 1e8, key: str = "stage") -> list[dict]:
    """A model trained in stages (pretraining, then the clustering objective, then fine-tuning, …): each
    ``(name, loss_fn, batches, epochs, hooks)`` runs :func:`train` in turn, all with ``optimiser``. The history is one
    record per epoch with the stage's name under ``key`` and a running ``epoch`` number across the stages.

    >>> w = torch.nn.Parameter(torch.zeros(1))
    >>> opt = adam([w], lr=0.1)
    >>> pull = lambda target: (lambda batch, epoch: {"total": ((w - target) ** 2).sum()})
    >>> hist = train_stages([("to 1", pull(1.0), lambda: [0], 2, None), ("to 3", pull(3.0), lambda: [0], 3, None)], opt)
    >>> [(r["stage"], r["epoch"]) for r in hist], bool(hist[-1]["total"] < hist[2]["total"])
    ([('to 1', 1), ('to 1', 2), ('to 3', 3), ('to 3', 4), ('to 3', 5)], True)
    """
    history: list[dict] = []
    for name, loss_fn, batches, epochs, hooks in stages:
        for record in train(loss_fn, optimiser, batches, epochs, module=module, hooks=hooks, limit=limit):
            history.append({**record, key: name, "epoch": len(history) + 1})
    return history


def _call_in_eval(module: torch.nn.Module | None, fn: Callable, *args) -> None:
    if module is not None:
        module.eval()
    with torch.no_grad():
        fn(*args)


def train_module(model: torch.nn.Module, tensors: Sequence[torch.Tensor], config: TrainerConfig, *,
                 generator: torch.Generator, on_epoch: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train ``model`` (with ``losses(batch) -> dict``) by Adam (``config.optimizer_impl``) on mini-batches of
    row-aligned ``tensors``.

    >>> class Mean(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.mu = torch.nn.Parameter(torch.zeros(1))
    ...     def losses(self, batch):
    ...         sq = ((batch[0] - self.mu) ** 2).mean()
    ...         return {"sq": sq, "total": sq}
    >>> x = torch.full((32, 1), 3.0)
    >>> hist = train_module(Mean(), [x], TrainerConfig(epochs=200, batch_size=8, lr=0.1), generator=torch.Generator())
    >>> len(hist), hist[-1]["total"] < 1e-3
    (200, True)
    """
    optimiser = adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, config=config)
    n, device = tensors[0].shape[0], tensors[0].device

    def batches():
        return minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True)

    return train(lambda idx, epoch: model.losses([t[idx] for t in tensors]), optimiser, batches, config.epochs,
                 module=model, hooks=Hooks(on_epoch=on_epoch), limit=config.divergence_limit)
