"""Input checks shared by every estimator and metric; each error names the problem."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_views(views: Sequence, *, min_views: int = 1, name: str = "views") -> list[np.ndarray]:
    """Validate a list of 2-D arrays with one row per sample; return float32 copies.

    Raises ``ValueError`` for an empty list, a non-2-D view, differing sample
    counts across views, or a NaN/inf entry; ``TypeError`` for a bare array.
    """
    if isinstance(views, np.ndarray):
        raise TypeError(f"{name} must be a list of 2-D arrays (one per modality), got a single ndarray; wrap it: [X]")
    views = list(views)
    if len(views) < min_views:
        raise ValueError(f"{name}: need at least {min_views} view(s), got {len(views)}")
    out = []
    for i, view in enumerate(views):
        try:
            arr = np.asarray(view, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}[{i}] is not numeric (or its rows differ in length): {exc}") from None
        if arr.ndim != 2:
            raise ValueError(f"{name}[{i}] must be 2-D (n_samples, n_features), got shape {arr.shape}")
        if arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(f"{name}[{i}] is empty: shape {arr.shape}")
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise ValueError(f"{name}[{i}] contains {bad} NaN/inf value(s)")
        out.append(arr)
    counts = [v.shape[0] for v in out]
    if len(set(counts)) > 1:
        raise ValueError(f"{name}: views have different sample counts {counts}; every view needs one row per sample")
    return out


def check_n_clusters(n_clusters: int, n_samples: int) -> int:
    """``2 <= n_clusters < n_samples``, as an int (as many clusters as samples is no clustering: k-means and
    spectral methods fail or silently return fewer clusters)."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)):
        raise TypeError(f"n_clusters must be an int, got {type(n_clusters).__name__}")
    if n_clusters < 2:
        raise ValueError(f"n_clusters must be at least 2, got {n_clusters}")
    if n_clusters >= n_samples:
        raise ValueError(f"n_clusters={n_clusters} must be smaller than the number of samples ({n_samples})")
    return int(n_clusters)


def check_fitted(estimator, attribute: str, how: str = "fit(...)") -> None:
    """Raise scikit-learn's ``NotFittedError`` (a ``ValueError``) when ``estimator`` has not been fitted."""
    from sklearn.exceptions import NotFittedError

    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted yet; call {how} first")


def check_config(config, *, at_least: dict[str, float]) -> None:
    """Each named field of a config dataclass must be a number ``>= at_least[name]``; the error names the field.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class C:
    ...     epochs: int = 0
    >>> check_config(C(), at_least={"epochs": 1})
    Traceback (most recent call last):
    ...
    ValueError: C.epochs must be >= 1, got 0
    """
    for name, low in at_least.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= low:
            raise ValueError(f"{type(config).__name__}.{name} must be >= {low:g}, got {value!r}")


def check_labels(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D label vectors of equal, non-zero length without NaN; returned as int arrays."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        arr = np.asarray(y)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if arr.dtype.kind == "f":
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} contains NaN/inf labels")
            if not np.all(arr == np.round(arr)):
                raise ValueError(f"{name} holds non-integer labels")
        elif arr.dtype.kind not in "iub":
            raise ValueError(f"{name} must hold integer labels, got dtype {arr.dtype}")
        arrays.append(arr.astype(np.int64))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"y_true and y_pred have different lengths: {arrays[0].size} vs {arrays[1].size}")
    return arrays[0], arrays[1]
