"""Classical multi-view clustering baselines (the DDMC table's classical rows)."""

from mmc_lib.baselines.classical import BASELINES, KM, AmKM, AmNcuts, CoregMVSC, Ncuts, view_silhouettes

__all__ = ["BASELINES", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "view_silhouettes"]
