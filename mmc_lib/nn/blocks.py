"""Layer builders: MLP stacks and the DDC clustering head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(dims: Sequence[int], *, batchnorm: bool = True, activation: str = "relu",
        final_activation: bool = False, dropout: float = 0.0, order: str = "bn-act",
        final_batchnorm: bool = True) -> nn.Sequential:
    """A fully connected stack ``dims[0] → … → dims[-1]``.

    Hidden layers are ``Linear → [BatchNorm] → activation [→ Dropout]`` (``order="act-bn"``: activation before
    BatchNorm, as some reference code does); the last layer is a bare ``Linear`` unless ``final_activation``
    (then with BatchNorm only if ``final_batchnorm``).

    >>> [type(layer).__name__ for layer in mlp([784, 500, 10])]
    ['Linear', 'BatchNorm1d', 'ReLU', 'Linear']
    >>> [type(layer).__name__ for layer in mlp([8, 4, 2], order="act-bn", final_activation=True, final_batchnorm=False)]
    ['Linear', 'ReLU', 'BatchNorm1d', 'Linear', 'ReLU']
    """
    if order not in ("bn-act", "act-bn"):
        raise ValueError(f"unknown order {order!r}; known: 'bn-act', 'act-bn'")
    if len(dims) < 2:
        raise ValueError(f"mlp needs at least input and output sizes, got {list(dims)}")
    acts = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(acts)}")
    layers: list[nn.Module] = []
    n_layers = len(dims) - 1
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        last = i == n_layers - 1
        if not last or final_activation:
            norm = [nn.BatchNorm1d(d_out)] if batchnorm and (not last or final_batchnorm) else []
            act = [acts[activation]()]
            layers += norm + act if order == "bn-act" else act + norm
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
