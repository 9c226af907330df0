"""A generic mini-batch training loop: nothing model-specific (in the spirit of minGPT's ``trainer.py``).

The model exposes ``losses(batch) -> dict`` of named scalar tensors including ``"total"`` (the one that is
back-propagated); the loop averages every term over an epoch and returns one dict per epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from mmc_lib.nn.training import check_finite_losses, minibatches


@dataclass(frozen=True)
class TrainerConfig:
    """Optimisation schedule."""

    epochs: int = 100  # passes over the data
    batch_size: int = 256  # rows per step; the whole data set stays on the device
    lr: float = 1e-3  # Adam learning rate
    divergence_limit: float = 1e8  # a term beyond this (or NaN/inf) stops training with an error


def train(model: torch.nn.Module, tensors: Sequence[torch.Tensor], config: TrainerConfig, *,
          generator: torch.Generator, on_epoch: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Train ``model`` with Adam on mini-batches of ``tensors`` (row-aligned); return the per-epoch history.

    ``on_epoch(epoch, record)`` runs after each epoch with the model in eval mode (epoch 0 = before
    training, record empty) and may add entries to ``record`` (e.g. monitoring metrics).

    >>> import torch
    >>> class Mean(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.mu = torch.nn.Parameter(torch.zeros(1))
    ...     def losses(self, batch):
    ...         sq = ((batch[0] - self.mu) ** 2).mean()
    ...         return {"sq": sq, "total": sq}
    >>> x = torch.full((32, 1), 3.0)
    >>> hist = train(Mean(), [x], TrainerConfig(epochs=200, batch_size=8, lr=0.1), generator=torch.Generator())
    >>> len(hist), hist[-1]["total"] < 1e-3
    (200, True)
    """
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    n, device = tensors[0].shape[0], tensors[0].device
    history: list[dict] = []
    if on_epoch is not None:
        model.eval()
        with torch.no_grad():
            on_epoch(0, {})
    for epoch in range(1, config.epochs + 1):
        model.train()
        sums: dict[str, float] = {}
        n_batches = 0
        for idx in minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True):
            terms = model.losses([t[idx] for t in tensors])
            check_finite_losses(terms, epoch=epoch, limit=config.divergence_limit)
            optimiser.zero_grad(set_to_none=True)
            terms["total"].backward()
            optimiser.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            n_batches += 1
        record = {"epoch": epoch, **{name: s / max(n_batches, 1) for name, s in sums.items()}}
        if on_epoch is not None:
            model.eval()
            with torch.no_grad():
                on_epoch(epoch, record)
        history.append(record)
    return history
