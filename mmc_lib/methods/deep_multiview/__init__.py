"""Deep clusterers trained by mini-batch gradient descent on the shared loop (:mod:`mmc_lib.nn.trainer`).

The multi-view ones — SiMVC, CoMVC, DDMC, EAMC, DEMVC, MFLVC, SEM, SCMVC, DIVIDE, SSLNMVC — take a list of
row-aligned views; the single-input baselines of the DM2C table — DKM, DCN, IDEC, IMSAT — one matrix. What the
multi-view ones share is one base, :class:`mmc_lib.methods.base.DeepEstimator`: a fit that validates the views,
seeds torch without moving the caller's generators, picks among runs by a label-free rule, logs ACC/NMI only when
given ``y`` (monitoring, never selection) and exposes ``labels_`` / ``embedding_`` / ``history_``. Each estimator
adds only its network, its losses and its schedule (on :mod:`mmc_lib.nn.trainer`).
"""

from mmc_lib.methods.deep_multiview.ddmc import DDMC
from mmc_lib.methods.deep_multiview.deep_baselines import DCN, DKM, IDEC, IMSAT, DeepClusterConfig
from mmc_lib.methods.deep_multiview.demvc import DEMVC, DEMVCConfig
from mmc_lib.methods.deep_multiview.divide import DIVIDE, DIVIDEConfig
from mmc_lib.methods.deep_multiview.eamc import EAMC, EAMCConfig
from mmc_lib.methods.deep_multiview.mflvc import MFLVC, MFLVCConfig
from mmc_lib.methods.deep_multiview.mvc import CoMVC, MVCConfig, SiMVC
from mmc_lib.methods.deep_multiview.scmvc import SCMVC, SCMVCConfig
from mmc_lib.methods.deep_multiview.sem import SEM, SEMConfig
from mmc_lib.methods.deep_multiview.sslnmvc import SSLNMVC, SSLNMVCConfig

__all__ = ["SiMVC", "CoMVC", "MVCConfig", "DDMC", "EAMC", "EAMCConfig", "DEMVC", "DEMVCConfig", "MFLVC",
           "MFLVCConfig", "SEM", "SEMConfig", "SCMVC", "SCMVCConfig", "DIVIDE", "DIVIDEConfig", "SSLNMVC",
           "SSLNMVCConfig", "DKM", "DCN", "IDEC", "IMSAT", "DeepClusterConfig"]
