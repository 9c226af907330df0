"""Generative clusterers: a latent-variable model whose latent (or mixture component, or tree leaf) is the cluster.

D-MVAE (multi-modal VAE with a mixture prior, refined adversarially and by diffusion), TreeVAE (a VAE whose
prior is a binary tree grown and pruned during training; leaves are clusters), TreeDiffusion (a
cluster-conditioned DDPM on top of a fitted TreeVAE) and the flat VAE + k-means baseline. What they share:
an ELBO-type objective trained in phases on the shared loop, images in ``[0, 1]`` (Bernoulli likelihoods), and
generation as well as clustering (samples per cluster, FID/KID in the studies).
"""

from mmc_lib.methods.generative.dmvae import DMVAE
from mmc_lib.methods.generative.dmvae_parts import DMVAEConfig
from mmc_lib.methods.generative.treediffusion import TreeDiffusion, TreeDiffusionConfig
from mmc_lib.methods.generative.treevae import TreeVAE, TreeVAEConfig, VAEConfig, VAEKMeans

__all__ = ["DMVAE", "DMVAEConfig", "TreeVAE", "TreeVAEConfig", "TreeDiffusion", "TreeDiffusionConfig", "VAEKMeans",
           "VAEConfig"]
