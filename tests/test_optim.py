"""The one Adam factory (``mmc_lib.nn.optim``): every deep model uses it, and its default ("foreach") gives the same
weights and labels as torch's single-tensor Adam for a fixed seed (issue 24, item 5)."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from mmc_lib.methods import DDMC, MFLVC, SCMVC, CoMVC, MVCConfig, SCMVCConfig, SiMVC
from mmc_lib.nn import TrainerConfig, adam, optimizer_impl
from mmc_lib.nn.optim import current_impl

LIB = Path(__file__).resolve().parents[1] / "mmc_lib"


def _mlp_weights(impl: str, steps: int = 60) -> list[torch.Tensor]:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 3))
    x, y = torch.randn(64, 12), torch.randint(0, 3, (64,))
    opt = adam(net.parameters(), lr=1e-2, weight_decay=1e-4, impl=impl)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in net.parameters()]


def test_foreach_gives_the_single_tensor_weights_bit_for_bit():
    single, foreach = _mlp_weights("single"), _mlp_weights("foreach")
    assert all(torch.equal(a, b) for a, b in zip(single, foreach))


def test_fused_runs_and_stays_close():
    # fused Adam rounds differently (not asserted equal); it must still be the same optimiser
    single, fused = _mlp_weights("single"), _mlp_weights("fused")
    assert all(torch.allclose(a, b, atol=5e-2) for a, b in zip(single, fused))


def test_factory_resolution_order():
    w = torch.nn.Parameter(torch.ones(2))
    assert adam([w]).defaults["foreach"] is True  # the default
    with optimizer_impl("single"):
        assert current_impl() == "single"
        assert adam([w]).defaults["foreach"] is False and adam([w]).defaults["fused"] is False
        assert adam([w], config=TrainerConfig(optimizer_impl="fused")).defaults["fused"] is True  # config beats default
        assert adam([w], impl="foreach", config=TrainerConfig(optimizer_impl="fused")).defaults["foreach"] is True
        assert adam([w], config=TrainerConfig()).defaults["foreach"] is False  # None: the current default
    assert current_impl() == "foreach"


@pytest.mark.parametrize("make", [lambda: TrainerConfig(optimizer_impl="sgd"), lambda: MVCConfig(optimizer_impl="x"),
                                  lambda: SCMVCConfig(optimizer_impl="adamw")])
def test_bad_impl_is_a_clear_error(make):
    with pytest.raises(ValueError, match="optimizer_impl"):
        make()


def test_no_adam_is_built_outside_the_factory():
    offenders = [f"{p.relative_to(LIB)}:{i}" for p in LIB.rglob("*.py") if p.name != "optim.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1)
                 if re.search(r"torch\.optim\.(Adam|AdamW|SGD)\(|optim\.Adam\(", line)]
    assert offenders == []


def _views(n_per=30, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 6)) * 2
    return [(centres[y] + rng.normal(0, .6, (len(y), 6))).astype(np.float32),
            (centres[y][:, ::-1] + rng.normal(0, .6, (len(y), 6))).astype(np.float32)]


MVC_TINY = MVCConfig(hidden=(16,), latent_dim=4, epochs=6, batch_size=30, n_restarts=1)
ESTIMATORS = {
    "SiMVC": lambda: SiMVC(3, config=MVC_TINY, seed=1),
    "CoMVC": lambda: CoMVC(3, config=MVC_TINY, seed=1),
    "DDMC": lambda: DDMC(3, dominant=0, config=MVC_TINY, seed=1),
    "SCMVC": lambda: SCMVC(3, seed=1, config=SCMVCConfig(hidden=(16,), feature_dim=8, high_feature_dim=4,
                                                             pretrain_epochs=3, epochs=3, batch_size=30,
                                                             kmeans_n_init=2)),
    "MFLVC": lambda: MFLVC(3, seed=1, hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2,
                                con_epochs=2, tune_epochs=2, kmeans_n_init=2, batch_size=30),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_foreach_keeps_a_fixed_seeds_labels_and_embedding(name):
    views = _views()
    fits = {}
    for impl in ("single", "foreach"):
        with optimizer_impl(impl):
            fits[impl] = ESTIMATORS[name]().fit(views)
    assert np.array_equal(fits["single"].labels_, fits["foreach"].labels_)
    assert np.array_equal(fits["single"].embedding_, fits["foreach"].embedding_)  # bit for bit
