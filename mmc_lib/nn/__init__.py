"""Small torch building blocks shared by the deep methods."""

from mmc_lib.nn.blocks import mlp
from mmc_lib.nn.training import check_finite_losses, minibatches, to_device_views

__all__ = ["mlp", "minibatches", "to_device_views", "check_finite_losses"]
