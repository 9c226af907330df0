"""Small torch building blocks shared by the deep methods: layers, the batch sampler, the training loop."""

from mmc_lib.nn.batches import minibatches, mixed_batches, to_device_views
from mmc_lib.nn.blocks import DDCHead, mlp
from mmc_lib.nn.optim import adam, optimizer_impl
from mmc_lib.nn.trainer import (BestCheckpoint, Hooks, TrainerConfig, check_finite_losses, run_epoch, seeded, step,
                                train, train_module, train_stages)

__all__ = ["mlp", "DDCHead", "minibatches", "mixed_batches", "to_device_views", "check_finite_losses", "BestCheckpoint",
           "Hooks", "TrainerConfig", "run_epoch", "seeded", "step", "train", "train_module", "train_stages", "adam", "optimizer_impl"]
