"""Every clustering estimator, scikit-learn style (``fit``, ``fit_predict``, ``labels_``).

| module | estimators |
|---|---|
| ``classical`` | KM, Ncuts, AmKM, AmNcuts, CoregMVSC (the DDMC table's classical rows) |
| ``deep_baselines`` | DKM, DCN, IDEC, IMSAT (the DM2C table's single-input deep baselines) |
| ``mvc`` | SiMVC, CoMVC and the encoders/estimator base they share with DDMC |
| ``ddmc`` | DDMC |
| ``dm2c`` (+ ``dm2c_parts``) | DM2C |
| ``aligners`` | CCAAligner, ContrastiveAligner (joint embedding spaces) |
| ``knee_dbscan`` | KneeDBSCAN (DBSCAN with eps from the k-distance knee) |
| ``rmkmc``, ``graph_mvc`` | RMKMC, SwMC, ONMSC, SMCMB (DDMC table's k-means / graph competitors) |
| ``eamc``, ``demvc`` | EAMC, DEMVC (DDMC table competitors: adversarial-attention; collaborative DEC) |
| ``mflvc`` | MFLVC (+ the per-view autoencoder SEM shares) |
| ``sem`` | SEM (self-weighted contrastive learning) |
| ``embedding_mvc`` | the base that SCMVC, DIVIDE and SSLNMVC share (fit, restarts, k-means on the embedding) |
| ``scmvc``, ``divide``, ``sslnmvc`` | SCMVC, DIVIDE, SSLNMVC |

This package never imports :mod:`mmc_lib.studies` or :mod:`mmc_lib.audit` (a test enforces it).
"""

from mmc_lib.methods.aligners import CCAAligner, ContrastiveAligner, ContrastiveConfig
from mmc_lib.methods.classical import BASELINES, KM, AmKM, AmNcuts, CoregMVSC, Ncuts
from mmc_lib.methods.ddmc import DDMC
from mmc_lib.methods.demvc import DEMVC, DEMVCConfig
from mmc_lib.methods.divide import DIVIDE, DIVIDEConfig
from mmc_lib.methods.deep_baselines import DCN, DKM, IDEC, IMSAT, DeepClusterConfig
from mmc_lib.methods.dm2c import DM2C
from mmc_lib.methods.dm2c_parts import DM2CConfig
from mmc_lib.methods.eamc import EAMC, EAMCConfig
from mmc_lib.methods.graph_mvc import ONMSC, SMCMB, SwMC
from mmc_lib.methods.knee_dbscan import KneeDBSCAN
from mmc_lib.methods.mflvc import MFLVC, MFLVCConfig
from mmc_lib.methods.mvc import CoMVC, MVCConfig, SiMVC
from mmc_lib.methods.rmkmc import RMKMC
from mmc_lib.methods.scmvc import SCMVC, SCMVCConfig
from mmc_lib.methods.sem import SEM, SEMConfig
from mmc_lib.methods.sslnmvc import SSLNMVC, SSLNMVCConfig

__all__ = ["BASELINES", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "DKM", "DCN", "IDEC", "IMSAT",
           "DeepClusterConfig", "SiMVC", "CoMVC", "MVCConfig", "DDMC", "DM2C", "DM2CConfig", "CCAAligner",
           "ContrastiveAligner", "ContrastiveConfig", "KneeDBSCAN", "EAMC", "EAMCConfig", "DEMVC", "DEMVCConfig",
           "MFLVC", "MFLVCConfig", "SEM", "SEMConfig", "SCMVC", "SCMVCConfig", "DIVIDE", "DIVIDEConfig", "SSLNMVC",
           "SSLNMVCConfig", "RMKMC", "SwMC", "ONMSC", "SMCMB"]
