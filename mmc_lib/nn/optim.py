"""The one Adam factory of every deep model: which of torch's three Adam implementations steps the weights.

torch's ``Adam`` has three implementations of the same update:

* ``"single"`` — one small kernel per parameter tensor and per operation (``lerp_``, ``mul_``, ``addcmul_``,
  ``sqrt``, ``addcdiv_``, …). It is what torch picks by itself on the CPU, and on the 2-core CPU here it took 19 %
  of a step of a 4-layer 500-500-2000 MLP and 41 % of SCMVC's fit (issue 24's profile).
* ``"foreach"`` — the same arithmetic in multi-tensor kernels over all parameters at once (torch's default on
  CUDA). The element-wise operations and their order are those of ``"single"``, so the weights are **bit for bit
  the same** after any number of steps (checked in ``tests/test_optim.py`` and ``benchmarks/bench_optimizer.py``),
  and so are the labels of a fixed seed.
* ``"fused"`` — one fused kernel per parameter group (CPU since torch 2.4, CUDA). The fastest, but it computes the
  update in a different order: weights drift from ``"single"``'s by rounding (max |Δ| 7.7e-3 after 100 steps of the
  MLP above), so a fixed seed no longer reproduces the labels of the other two.

The default is ``"foreach"``: faster than ``"single"`` and reproducing its numbers exactly. A config with an
``optimizer_impl`` field (:class:`mmc_lib.nn.trainer.TrainerConfig`, ``MVCConfig``, …) picks one per fit;
:func:`optimizer_impl` switches the default for everything inside a ``with`` block (benchmarks, tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch

IMPLS = ("single", "foreach", "fused")
DEFAULT_IMPL = "foreach"

_current: ContextVar[str] = ContextVar("mmc_optimizer_impl", default=DEFAULT_IMPL)


def check_impl(impl: str) -> str:
    """``impl`` if it is one of :data:`IMPLS`, else ``ValueError`` naming the choices.

    >>> check_impl("fused")
    'fused'
    """
    if impl not in IMPLS:
        raise ValueError(f"unknown optimizer_impl {impl!r}; known: {IMPLS}")
    return impl


def current_impl() -> str:
    """The implementation a factory call without an explicit one uses (:data:`DEFAULT_IMPL` unless switched)."""
    return _current.get()


@contextmanager
def optimizer_impl(impl: str) -> Iterator[str]:
    """Every :func:`adam` call inside the block that names no implementation (and every config whose
    ``optimizer_impl`` is ``None``) uses ``impl``.

    >>> with optimizer_impl("single"):
    ...     current_impl()
    'single'
    >>> current_impl()
    'foreach'
    """
    token = _current.set(check_impl(impl))
    try:
        yield impl
    finally:
        _current.reset(token)


def impl_flags(impl: str | None = None) -> dict[str, bool]:
    """torch's keyword flags for ``impl`` (``None``: :func:`current_impl`).

    >>> impl_flags("foreach"), impl_flags("single")
    ({'foreach': True, 'fused': False}, {'foreach': False, 'fused': False})
    """
    impl = check_impl(current_impl() if impl is None else impl)
    return {"foreach": impl == "foreach", "fused": impl == "fused"}


def adam(params: Iterable[Any], *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0, impl: str | None = None, config: Any = None) -> torch.optim.Adam:
    """``torch.optim.Adam`` with the implementation ``impl``, else ``config.optimizer_impl`` when the config has
    one that is not ``None``, else :func:`current_impl`. ``params`` may be tensors or parameter groups.

    >>> w = torch.nn.Parameter(torch.ones(3))
    >>> opt = adam([w], lr=0.1)
    >>> opt.defaults["foreach"], opt.defaults["fused"]
    (True, False)
    >>> adam([w], impl="adamw")
    Traceback (most recent call last):
    ...
    ValueError: unknown optimizer_impl 'adamw'; known: ('single', 'foreach', 'fused')
    """
    if impl is None and config is not None:
        impl = getattr(config, "optimizer_impl", None)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, **impl_flags(impl))
