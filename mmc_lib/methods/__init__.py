"""Deep multi-modal clustering methods, one module per paper."""

from mmc_lib.methods.ddmc import DDMC
from mmc_lib.methods.mvc_baselines import CoMVC, SiMVC
from mmc_lib.methods.mvc_parts import MVCConfig
from mmc_lib.methods.dm2c import DM2C
