"""Real multi-view / multimodal benchmark data (:mod:`~mmc_lib.data.datasets`), the registry of what exists
(:mod:`~mmc_lib.data.registry`), file readers (:mod:`~mmc_lib.data.loaders`) and fixed splits
(:mod:`~mmc_lib.data.splits`)."""

from mmc_lib.data.datasets import (ChecksumError, DataMissingError, MixedModalDataset, MultiViewDataset, available,
                                   get_entry, load, minmax_scale, mixed_modal, overview, resolve_data_dir, subsample)
from mmc_lib.data.registry import REGISTRY, DatasetEntry
from mmc_lib.data.splits import dm2c_split, mnist_split, wikipedia_split

__all__ = [
    "REGISTRY", "DatasetEntry", "MultiViewDataset", "MixedModalDataset", "DataMissingError", "ChecksumError",
    "resolve_data_dir", "get_entry", "available", "load", "mixed_modal", "subsample", "minmax_scale", "overview",
    "wikipedia_split", "mnist_split", "dm2c_split",
]
