"""Helpers for full-batch-on-device mini-batch training (no DataLoader workers:
our tabular sets are a few thousand rows and fit on any device)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

import numpy as np
import torch


def to_device_views(views, device: str) -> list[torch.Tensor]:
    """float32 tensors on ``device``, one per view."""
    return [torch.as_tensor(np.asarray(v, dtype=np.float32), device=device) for v in views]


def minibatches(n: int, batch_size: int, *, generator: torch.Generator, device: str = "cpu",
                drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Yield shuffled index tensors covering ``range(n)`` once (seeded through ``generator``).

    A last batch of a single row is dropped when ``drop_last`` (BatchNorm cannot train on it).
    """
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if drop_last and len(idx) < 2:
            continue
        yield idx


def check_finite_losses(losses: Mapping[str, torch.Tensor], *, epoch: int, limit: float = 1e8) -> None:
    """Raise ``FloatingPointError`` naming the term when a loss is NaN/inf or explodes past ``limit``."""
    for name, value in losses.items():
        v = float(value.detach())
        if not math.isfinite(v) or abs(v) > limit:
            raise FloatingPointError(f"loss term {name!r} diverged at epoch {epoch}: {v}")
