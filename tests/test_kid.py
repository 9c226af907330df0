"""KID beside FID for small samples (mmc_lib.fid.kid, generation_scores)."""

import numpy as np
import pytest

from mmc_lib.fid import generation_scores, kid


def _mmd2_unbiased(x, y, degree=3, coef=1.0):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + coef) ** degree  # noqa: E731
    m = len(x)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean())


def test_kid_is_the_unbiased_polynomial_mmd():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 5)), rng.normal(0.5, 1.0, size=(60, 5))
    mean, std = kid(x, y, subsets=1, subset_size=60)  # one subset of all rows: the full-sample statistic
    assert mean == pytest.approx(_mmd2_unbiased(x, y), rel=1e-6) and std == 0.0


def test_kid_separates_distributions_and_is_deterministic():
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(200, 16)), rng.normal(size=(200, 16)), rng.normal(1.0, 1.0, size=(200, 16))
    assert abs(kid(a, b)[0]) < 0.1 * kid(a, c)[0]
    assert kid(a, c, seed=3) == kid(a, c, seed=3)
    with pytest.raises(ValueError, match="same width"):
        kid(a, c[:, :3])
    with pytest.raises(ValueError, match="subset_size"):
        kid(a, c, subset_size=500)


def test_fid_decides_only_on_held_out_samples_with_enough_rows():
    rng = np.random.default_rng(3)
    big = generation_scores(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), held_out=True)
    assert big["decides"] == "FID" and big["why"] == ""
    small = generation_scores(rng.normal(size=(50, 64)), rng.normal(size=(50, 64)), held_out=True)
    assert small["decides"] == "KID" and "64 feature dimensions" in small["why"]
    seen = generation_scores(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), held_out=False)
    assert seen["decides"] == "KID" and "training" in seen["why"]
