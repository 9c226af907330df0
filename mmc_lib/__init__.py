"""mmc_lib — the small library behind the mmc-companion notebooks.

Datasets (:mod:`mmc_lib.data`), metrics (:mod:`mmc_lib.metrics`), classical
baselines (:mod:`mmc_lib.baselines`), deep methods (:mod:`mmc_lib.methods`),
experiment grids with on-disk caching (:mod:`mmc_lib.experiments`), the results
store (:mod:`mmc_lib.results`) and plotting (:mod:`mmc_lib.plotting`).
"""

__version__ = "0.1.0"
