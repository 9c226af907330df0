"""Layer builders: MLP stacks and the DDC clustering head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(dims: Sequence[int], *, batchnorm: bool = True, activation: str = "relu",
        final_activation: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """A fully connected stack ``dims[0] → … → dims[-1]``.

    Hidden layers are ``Linear → [BatchNorm] → activation [→ Dropout]``; the last
    layer is a bare ``Linear`` unless ``final_activation``.

    >>> [type(layer).__name__ for layer in mlp([784, 500, 10])]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    """
    if len(dims) < 2:
        raise ValueError(f"mlp needs at least input and output sizes, got {list(dims)}")
    acts = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(acts)}")
    layers: list[nn.Module] = []
    n_layers = len(dims) - 1
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < n_layers - 1 or final_activation:
            if batchnorm:
                layers.append(nn.BatchNorm1d(d_out))
            layers.append(acts[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DDCHead(nn.Module):
    """The DDC clustering module (Kampffmeyer et al. 2019): ``Linear → ReLU → BatchNorm1d`` (100 hidden units),
    then ``Linear → softmax`` over K; ``forward(x)`` returns ``(hidden (B, H), assignments (B, K))``.

    >>> import torch
    >>> h, a = DDCHead(8, 3)(torch.randn(5, 8))
    >>> tuple(h.shape), tuple(a.shape), bool(torch.allclose(a.sum(1), torch.ones(5)))
    ((5, 100), (5, 3), True)
    """

    def __init__(self, d_in: int, n_clusters: int, *, hidden: int = 100):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.BatchNorm1d(hidden))
        self.output = nn.Sequential(nn.Linear(hidden, n_clusters), nn.Softmax(dim=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hidden(x)  # (B, H)
        return h, self.output(h)  # (B, H), (B, K)
