"""Cross-modal methods: two modalities with different features, paired (aligners) or unpaired (DM2C).

DM2C clusters mixed-modal data whose samples each have ONE modality, by translating every latent into the other
modality's space (cycle-consistent, adversarially trained generators with WGAN critics — its alternating
generator/critic loop is the one training loop outside :mod:`mmc_lib.nn`). CCAAligner and ContrastiveAligner
learn a joint embedding space from paired samples (closed-form CCA; CLIP-style InfoNCE on the shared loop), for
retrieval and for clustering the joint vectors. They share the two-input ``fit(x_a, x_b)`` interface.
"""

from mmc_lib.methods.crossmodal.aligners import CCAAligner, ContrastiveAligner, ContrastiveConfig
from mmc_lib.methods.crossmodal.dm2c import DM2C
from mmc_lib.methods.crossmodal.dm2c_parts import DM2CConfig

__all__ = ["DM2C", "DM2CConfig", "CCAAligner", "ContrastiveAligner", "ContrastiveConfig"]
