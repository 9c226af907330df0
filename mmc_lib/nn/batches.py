"""The one mini-batch sampler (full-batch-on-device: our tabular sets are a few thousand rows and fit on any
device, so no DataLoader workers) and its mixed-modal variant."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


def to_device_views(views, device: str) -> list[torch.Tensor]:
    """float32 tensors on ``device``, one per view."""
    return [torch.as_tensor(np.asarray(v, dtype=np.float32), device=device) for v in views]


def minibatches(n: int, batch_size: int, *, generator: torch.Generator, device: str = "cpu",
                drop_last: bool = False) -> Iterator[torch.Tensor]:
    """Yield shuffled index tensors covering ``range(n)`` once (seeded through ``generator``).

    A last batch of a single row is dropped when ``drop_last`` (BatchNorm cannot train on it).

    >>> [len(b) for b in minibatches(5, 2, generator=torch.Generator().manual_seed(0), drop_last=True)]
    [2, 2]
    """
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if drop_last and len(idx) < 2:
            continue
        yield idx


def mixed_batches(n_a: int, n_b: int, batch_size: int, *, generator: torch.Generator,
                  min_rows: int = 2) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mixed-modal batches (DM2C's loader): shuffle all ``n_a + n_b`` samples together, cut into batches and
    split each batch by modality into ``(rows of A, rows of B)``. A batch with fewer than ``min_rows`` rows
    of either modality is skipped (BatchNorm cannot train on one row).

    >>> [(sorted(a.tolist()), sorted(b.tolist())) for a, b in mixed_batches(3, 3, 6, generator=torch.Generator())]
    [([0, 1, 2], [0, 1, 2])]
    """
    for idx in minibatches(n_a + n_b, batch_size, generator=generator):
        ia, ib = idx[idx < n_a], idx[idx >= n_a] - n_a
        if len(ia) >= min_rows and len(ib) >= min_rows:
            yield ia, ib
