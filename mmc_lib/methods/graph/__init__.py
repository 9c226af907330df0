"""Graph-based multi-view clusterers: SwMC, ONMSC and SMCMB (the DDMC table's graph competitors).

Each builds a similarity graph (or kernel) per view, learns how much each view counts, and reads the clusters
off a consensus graph through its Laplacian's smallest eigenvectors (or the connected components of a graph
with exactly K of them). They share the Laplacian and eigenvector helpers of :mod:`~.graph_mvc`, NumPy/SciPy
optimisation without a training loop, and scikit-learn's ``fit`` / ``labels_``.
"""

from mmc_lib.methods.graph.graph_mvc import ONMSC, SMCMB, SwMC

__all__ = ["SwMC", "ONMSC", "SMCMB"]
