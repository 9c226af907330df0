"""Classical (shallow) clusterers: k-means, spectral and DBSCAN variants on fixed features, no training loop.

KM, Ncuts, AmKM, AmNcuts and CoregMVSC (the DDMC table's classical rows), RMKMC (robust multi-view k-means) and
KneeDBSCAN (DBSCAN with eps from the k-distance knee). What they share is closed-form or alternating
optimisation in NumPy/SciPy on the given views, scikit-learn's ``fit`` / ``fit_predict`` / ``labels_``, and a
``seed`` that fixes every k-means start; the dominant-view rule and the Gaussian affinity they use are in
:mod:`mmc_lib.methods.shared`.
"""

from mmc_lib.methods.classical.baselines import BASELINES, KM, AmKM, AmNcuts, CoregMVSC, Ncuts
from mmc_lib.methods.classical.knee_dbscan import KneeDBSCAN
from mmc_lib.methods.classical.rmkmc import RMKMC

__all__ = ["BASELINES", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "RMKMC", "KneeDBSCAN"]
