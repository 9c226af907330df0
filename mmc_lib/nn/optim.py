"""The one Adam factory of every deep model: which of torch's three Adam implementations steps the weights.

torch's ``Adam`` has three implementations of the same update:

* ``"single"`` — one small kernel per parameter tensor and per operation (``lerp_``, ``mul_``, ``addcmul_``,
  ``sqrt``, ``addcdiv_``, …). It is what torch picks by itself on the CPU, and what every model here used before.
* ``"foreach"`` — the same arithmetic in multi-tensor kernels over all parameters at once (torch's default on
  CUDA). The element-wise operations and their order are those of ``"single"``, so the weights are **bit for bit
  the same** after any number of steps (``tests/test_optim.py``; ``benchmarks/golden_capture.py``: all 34 fits
  identical), and so are the labels of a fixed seed.
* ``"fused"`` — one fused kernel per parameter group (CPU since torch 2.4, CUDA). The fastest, but it computes the
  update in a different order: weights drift from ``"single"``'s by rounding, so a fixed seed no longer reproduces
  the labels of the other two.

Measured on the 2-core CPU here (``benchmarks/bench_optimizer.py``, benchmarks/README.md): on SCMVC's
500-500-2000 autoencoders the optimizer is ~20 % of a step with ``"single"`` and with ``"foreach"`` (no speed-up on
the CPU: the arithmetic is memory-bound either way) and 4.4 % with ``"fused"`` (1.20× the steps per second, weights
off by up to 0.07 after 200 steps); on CoMVC's CNN it is ~1 % whatever the implementation.

The default is ``"foreach"``: it reproduces every committed result exactly, costs nothing on the CPU and is torch's
fast path on a GPU. ``"fused"`` is the opt-in for speed when bit-reproducibility of older results does not matter.
A config with an ``optimizer_impl`` field (:class:`mmc_lib.nn.trainer.TrainerConfig`, ``MVCConfig``,
``SCMVCConfig``) picks one per fit; :func:`optimizer_impl` switches the default for everything inside a ``with``
block (benchmarks, tests).
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
