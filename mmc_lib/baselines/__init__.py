"""Classical multi-view clustering baselines (the DDMC table's classical rows)."""

from mmc_lib.baselines.classical import BASELINES, KM, AmKM, AmNcuts, CoregMVSC, Ncuts, per_view_kmeans, view_silhouettes

__all__ = ["BASELINES", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "per_view_kmeans", "view_silhouettes"]
from mmc_lib.baselines.evaluate import evaluate_baseline, methods_for  # noqa: E402

__all__ += ["evaluate_baseline", "methods_for"]
