"""Every clustering estimator, scikit-learn style (``fit``, ``fit_predict``, ``labels_``), grouped by family.

| family | estimators |
|---|---|
| ``classical`` | KM, Ncuts, AmKM, AmNcuts, CoregMVSC (the DDMC table's classical rows), RMKMC, KneeDBSCAN |
| ``graph`` | SwMC, ONMSC, SMCMB (the DDMC table's graph competitors) |
| ``deep_multiview`` | SiMVC, CoMVC, DDMC, EAMC, DEMVC, MFLVC, SEM, SCMVC, DIVIDE, SSLNMVC; DKM, DCN, IDEC, IMSAT (the DM2C table's single-input deep baselines) |
| ``crossmodal`` | DM2C; CCAAligner, ContrastiveAligner (joint embedding spaces) |
| ``generative`` | DMVAE, TreeVAE, TreeDiffusion, VAEKMeans |

Each family's ``__init__`` says what its members share. A family never imports another family: what several
use lives in :mod:`mmc_lib.methods.shared`, the one base of the deep multi-view estimators (validation, seeding,
runs and the label-free choice among them, device, history) in :mod:`mmc_lib.methods.base`, and the networks and
the training loop in :mod:`mmc_lib.nn`;
``tests/test_layout.py`` enforces it. This package never imports :mod:`mmc_lib.studies` or :mod:`mmc_lib.audit`.

The module paths of the flat layout (``mmc_lib.methods.ddmc``, ``mmc_lib.methods.treevae``, …) still import the
same modules (:data:`FLAT_PATHS`), so code written outside the project before the families keeps working. The
library, its tests, benchmarks and notebooks import the family paths only (``tests/test_layout.py``).
"""

import sys
from importlib import import_module

from mmc_lib.methods.classical import BASELINES, KM, RMKMC, AmKM, AmNcuts, CoregMVSC, KneeDBSCAN, Ncuts
from mmc_lib.methods.crossmodal import DM2C, CCAAligner, ContrastiveAligner, ContrastiveConfig, DM2CConfig
from mmc_lib.methods.deep_multiview import (DCN, DDMC, DEMVC, DIVIDE, DKM, EAMC, IDEC, IMSAT, MFLVC, SCMVC, SEM,
                                            SSLNMVC, CoMVC, DeepClusterConfig, DEMVCConfig, DIVIDEConfig, EAMCConfig,
                                            MFLVCConfig, MVCConfig, SCMVCConfig, SEMConfig, SiMVC, SSLNMVCConfig)
from mmc_lib.methods.generative import (DMVAE, DMVAEConfig, TreeDiffusion, TreeDiffusionConfig, TreeVAE,
                                        TreeVAEConfig, VAEConfig, VAEKMeans)
from mmc_lib.methods.graph import ONMSC, SMCMB, SwMC

__all__ = ["BASELINES", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "DKM", "DCN", "IDEC", "IMSAT",
           "DeepClusterConfig", "SiMVC", "CoMVC", "MVCConfig", "DDMC", "DM2C", "DM2CConfig", "CCAAligner",
           "ContrastiveAligner", "ContrastiveConfig", "KneeDBSCAN", "EAMC", "EAMCConfig", "DEMVC", "DEMVCConfig",
           "MFLVC", "MFLVCConfig", "SEM", "SEMConfig", "SCMVC", "SCMVCConfig", "DIVIDE", "DIVIDEConfig", "SSLNMVC",
           "SSLNMVCConfig", "RMKMC", "SwMC", "ONMSC", "SMCMB", "DMVAE", "DMVAEConfig", "TreeVAE", "TreeVAEConfig",
           "TreeDiffusion", "TreeDiffusionConfig", "VAEKMeans", "VAEConfig"]

#: module of the flat layout → the family module it is now (both names import the same module object)
FLAT_PATHS = {
    "rmkmc": "classical.rmkmc", "knee_dbscan": "classical.knee_dbscan", "graph_mvc": "graph.graph_mvc",
    **{name: f"deep_multiview.{name}" for name in ("mvc", "ddmc", "eamc", "demvc", "mflvc", "sem", "scmvc", "divide",
                                                   "sslnmvc", "deep_baselines")},
    **{name: f"crossmodal.{name}" for name in ("dm2c", "dm2c_parts", "aligners")},
    **{name: f"generative.{name}" for name in ("dmvae", "dmvae_parts", "treevae", "treediffusion")},
}
for _old, _new in FLAT_PATHS.items():
    sys.modules[f"{__name__}.{_old}"] = import_module(f"{__name__}.{_new}")
