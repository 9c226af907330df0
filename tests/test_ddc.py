"""DDC head and loss: hand-computed values, gradient directions, kernel bandwidth."""

import math

import numpy as np
import pytest
import torch

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.losses.mutual_information import CLUB, assignment_mutual_information, gaussian_kl, uniform_cross_entropy
from mmc_lib.losses.ddc import cs_divergence, ddc_loss, gaussian_kernel, triu_sum
from mmc_lib.nn import DDCHead


def test_triu_sum_excludes_diagonal():
    assert float(triu_sum(torch.arange(9.0).reshape(3, 3))) == 1 + 2 + 5


def test_kernel_bandwidth_is_015_median_squared_distance():
    h = torch.tensor([[0.0], [1.0], [3.0]])  # squared distances 1, 9, 4 (and 0 on the diagonal)
    d2 = torch.tensor([[0, 1, 9], [1, 0, 4], [9, 4, 0.0]])
    sigma2 = 0.15 * float(d2.median())  # torch median of the 9 entries = 1
    expected = torch.exp(-d2 / (2 * sigma2))
    assert torch.allclose(gaussian_kernel(h), expected, atol=1e-6)


def test_kernel_bandwidth_has_no_gradient():
    h = torch.randn(6, 3, requires_grad=True)
    k = gaussian_kernel(h)
    (g,) = torch.autograd.grad(k.sum(), h)
    # scaling h must not change the kernel (σ follows the median), but the gradient treats σ as constant
    assert torch.allclose(gaussian_kernel(3 * h.detach()), k.detach(), atol=1e-5)
    assert g.abs().sum() > 0


def test_cs_divergence_hand_computed():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    kernel = torch.tensor([[1.0, 0.5], [0.5, 1.0]])
    # a1ᵀKa2 = 0.5, a1ᵀKa1 = a2ᵀKa2 = 1, 2/(2·1) · 0.5 = 0.5
    assert float(cs_divergence(a, kernel)) == pytest.approx(0.5)


def test_ddc_terms_lower_for_separated_confident_clusters():
    rng = np.random.default_rng(0)
    h = torch.tensor(np.r_[rng.normal(0, .1, (20, 2)), rng.normal(5, .1, (20, 2))], dtype=torch.float32)
    good = torch.tensor(np.repeat(np.eye(2), 20, axis=0) * 0.98 + 0.01, dtype=torch.float32)
    bad = torch.full((40, 2), 0.5)
    lg, lb = ddc_loss(h, good), ddc_loss(h, bad)
    for term in ("ddc1", "ddc2", "ddc3"):
        assert lg[term] < lb[term], term


def test_ddc_gradient_sharpens_assignments():
    h = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    logits = torch.tensor([[0.5, 0.0], [0.5, 0.0], [0.0, 0.5], [0.0, 0.5]], requires_grad=True)
    terms = ddc_loss(h, torch.softmax(logits, 1))
    sum(terms.values()).backward()
    # descending the loss increases each row's winning logit relative to the other
    step = -logits.grad
    assert (step[[0, 1], 0] - step[[0, 1], 1] > 0).all() and (step[[2, 3], 1] - step[[2, 3], 0] > 0).all()


def test_head_shapes_and_simplex():
    head = DDCHead(7, 4)
    h, a = head(torch.randn(10, 7))
    assert h.shape == (10, 100) and a.shape == (10, 4)
    assert torch.allclose(a.sum(1), torch.ones(10)) and (h >= -1e6).all()


def test_gaussian_kl_matches_closed_form():
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.log(torch.tensor([[4.0, 0.25]]))
    expected = 0.5 * ((1 + 4 - 1 - math.log(4)) + (4 + 0.25 - 1 - math.log(0.25)))
    assert float(gaussian_kl(mu, logvar)) == pytest.approx(expected, rel=1e-5)


def test_assignment_mi_bounds():
    a = torch.eye(3).repeat(4, 1)
    assert float(assignment_mutual_information(a, a)) == pytest.approx(math.log(3), rel=1e-4)
    assert float(assignment_mutual_information(a, torch.full((12, 3), 1 / 3))) == pytest.approx(0.0, abs=1e-6)


def test_uniform_cross_entropy_direction():
    balanced = torch.eye(2).repeat(5, 1)
    skewed = torch.tensor([[0.9, 0.1]]).repeat(10, 1)
    assert float(uniform_cross_entropy(balanced)) == pytest.approx(math.log(2), rel=1e-5)
    assert uniform_cross_entropy(skewed) > uniform_cross_entropy(balanced)


def test_nt_xent_prefers_aligned_pairs_and_masking_keeps_positive():
    torch.manual_seed(0)
    z = torch.randn(8, 4)
    assert nt_xent(z, z + 0.01 * torch.randn(8, 4)) < nt_xent(z, torch.randn(8, 4))
    everything_same = torch.ones(8, 8, dtype=torch.bool)
    # with every negative masked only the positive remains: the loss is log(1) = 0
    assert float(nt_xent(z, torch.randn(8, 4), same_cluster=everything_same)) == pytest.approx(0.0, abs=1e-5)


def test_club_tracks_dependence():
    torch.manual_seed(0)
    z = torch.randn(256, 2)
    club = CLUB(2, 2, hidden=16)
    opt = torch.optim.Adam(club.parameters(), lr=1e-2)
    for _ in range(300):
        _, nll = club(z, z + 0.1 * torch.randn_like(z))
        opt.zero_grad()
        nll.backward()
        opt.step()
    dependent, _ = club(z, z + 0.1 * torch.randn_like(z))
    independent, _ = club(z, torch.randn(256, 2))
    assert float(dependent) > 1.0 and float(dependent) > float(independent) + 1.0
