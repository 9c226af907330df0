"""D-MVAE (notebook 04): the estimator, its parts, MNIST-Text and the study's tables."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from mmc_lib.data.mnist_text import ALPHABET, VOCAB_SIZE, decode, encode, mnist_text, spell
from mmc_lib.methods.generative import dmvae_parts as parts
from mmc_lib.methods.generative.dmvae import DMVAE, STAGES
from mmc_lib.methods.generative.dmvae_parts import DMVAEConfig
from mmc_lib.nn.diffusion import DiffusionConfig
from mmc_lib.studies import dmvae as study
from mmc_lib.studies.budgets import budget

TINY = DMVAEConfig(latent_dim=3, hidden=16, channels=(4, 8), unet_channels=(8, 16), denoiser_hidden=16,
                   batch_size=16, epochs_recon=2, epochs_align=2, epochs_refine=1, align_warmup=1,
                   diffusion=DiffusionConfig(train_steps=50, sample_steps=3), snapshot_rows=20)


def _features(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    a = rng.normal(size=(n, 6)) + 3 * y[:, None]
    b = rng.normal(size=(n, 4)) - 3 * y[:, None]
    return [a, b], y


def _image_text(n=32, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    img = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.3
    img[y == 1, :, :4] += 0.6
    return [img, spell(y, seed=seed)], y


@pytest.fixture(scope="module")
def fitted_features():
    views, y = _features()
    return DMVAE(3, config=TINY, seed=0).fit(views), views, y


@pytest.fixture(scope="module")
def fitted_image_text():
    views, y = _image_text()
    return DMVAE(2, config=TINY, seed=1).fit(views), views, y


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("views, match", [
    (lambda v: [v[0], v[1][:-1]], "different numbers of rows"),
    (lambda v: [np.where(np.arange(v[0].size).reshape(v[0].shape) == 3, np.nan, v[0]), v[1]], "NaN/inf"),
    (lambda v: [v[0]], "exactly two views"),
    (lambda v: [v[0][:, :, None], v[1]], "add a channel axis"),
])
def test_bad_views_raise_clear_errors(views, match):
    base, _ = _features()
    with pytest.raises(ValueError, match=match):
        DMVAE(2, config=TINY).fit(views(base))


def test_non_square_images_are_refused():
    img = np.zeros((10, 1, 8, 12), dtype=np.float32)
    with pytest.raises(ValueError, match="square images"):
        DMVAE(2, config=TINY).fit([img, np.zeros((10, 3))])


def test_images_outside_unit_range_are_refused():
    img = np.full((10, 1, 8, 8), 2.0, dtype=np.float32)
    with pytest.raises(ValueError, match=r"pixels must lie in \[0, 1\]"):
        DMVAE(2, config=TINY).fit([img, np.zeros((10, 3))])


@pytest.mark.parametrize("k, match", [(1, "at least 2"), (100, "must be smaller than the number of samples")])
def test_n_clusters_out_of_range(k, match):
    views, _ = _features(20)
    with pytest.raises(ValueError, match=match):
        DMVAE(k, config=TINY).fit(views)


def test_unknown_text_tokens_are_refused_at_fit_and_at_translate(fitted_image_text):
    views, _ = _image_text(10)
    bad = views[1].copy()
    bad[0, 0] = VOCAB_SIZE + 3
    with pytest.raises(ValueError, match="unknown text tokens"):
        DMVAE(2, config=replace(TINY, vocab_size=VOCAB_SIZE)).fit([views[0], bad])
    model = fitted_image_text[0]
    with pytest.raises(ValueError, match="unknown text tokens"):
        model.translate(np.full((2, 8), 99), source=1, target=0)
    with pytest.raises(ValueError, match="unknown text tokens"):
        model.translate(np.full((2, 8), -1), source=1, target=0)


def test_unknown_options_name_the_bad_value(fitted_image_text):
    views, _ = _features(20)
    with pytest.raises(ValueError, match="unknown posterior 'sum'"):
        DMVAE(2, config=replace(TINY, posterior="sum")).fit(views)
    model = fitted_image_text[0]
    with pytest.raises(ValueError, match="unknown stage 'best'"):
        model.translate(model_views(fitted_image_text)[1], source=1, target=0, stage="best")
    with pytest.raises(ValueError, match="no diffusion refinement"):
        model.translate(model_views(fitted_image_text)[0], source=0, target=1, stage="diffusion")
    with pytest.raises(ValueError, match="clusters must be"):
        model.generate([0, 5])
    with pytest.raises(RuntimeError, match="not fitted"):
        DMVAE(2).transform(views)


def model_views(fitted):
    return fitted[1]


# ------------------------------------------------------------------ behaviour
def test_fit_records_three_named_phases_with_named_terms(fitted_features):
    model, views, _ = fitted_features
    assert list(model.history_) == ["recon", "align", "refine"]
    assert {"rec_a", "rec_b", "kl_a", "kl_b", "total"} <= set(model.history_["recon"][-1])
    assert {"kl_mog", "consistency", "cross_ab", "cross_ba"} <= set(model.history_["align"][-1])
    assert {"adv_0", "adv_1", "diffusion_0", "diffusion_1", "disc"} <= set(model.history_["refine"][-1])
    assert model.labels_.shape == (48,) and model.embedding_.shape == (48, 3)
    assert set(model.snapshots_) == {"recon", "align", "refine"}


def test_phase_three_leaves_the_encoders_and_prior_frozen(fitted_features):
    model, _, _ = fitted_features
    for a, b in zip(model.snapshots_["align"], model.snapshots_["refine"]):
        np.testing.assert_array_equal(a, b)
    assert all(p.requires_grad for p in model.encoders_.parameters())  # unfrozen again after fit


def test_fixed_seed_gives_the_same_numbers():
    views, _ = _features(32)
    a = DMVAE(3, config=TINY, seed=4).fit(views)
    b = DMVAE(3, config=TINY, seed=4).fit(views)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.embedding_, b.embedding_)
    np.testing.assert_allclose(a.translate(views[1], source=1, target=0, seed=2),
                               b.translate(views[1], source=1, target=0, seed=2))


def test_fit_does_not_touch_the_callers_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DMVAE(3, config=TINY).fit(_features(24)[0])
    assert torch.equal(torch.rand(3), expected)


def test_image_text_pairs_translate_and_generate_at_every_stage(fitted_image_text):
    model, views, _ = fitted_image_text
    assert model.kinds_ == ("image", "tokens")
    for stage in STAGES:
        img = model.translate(views[1][:5], source=1, target=0, stage=stage)
        assert img.shape == (5, 1, 8, 8) and img.min() >= 0 and img.max() <= 1
        assert model.generate([0, 1, 1], view=0, stage=stage).shape == (3, 1, 8, 8)
    text = model.translate(views[0][:4], source=0, target=1, stage="adversarial")
    assert text.shape == (4, 8) and text.dtype.kind == "i" and text.max() < VOCAB_SIZE


def test_feature_translation_is_in_the_original_scale(fitted_features):
    model, views, _ = fitted_features
    out = model.translate(views[1], source=1, target=0, stage="adversarial", sample=False)
    assert out.shape == views[0].shape
    assert abs(out.mean() - views[0].mean()) < 2 * views[0].std()


def test_moe_posterior_fits():
    views, _ = _features(24)
    model = DMVAE(3, config=replace(TINY, posterior="moe")).fit(views)
    assert model.transform(views).shape == (24, 3)


# ------------------------------------------------------------------ parts
def test_product_of_experts_closed_form():
    mu, lv = parts.product_of_experts([torch.zeros(1, 1), torch.ones(1, 1)], [torch.zeros(1, 1), torch.zeros(1, 1)])
    assert float(mu) == pytest.approx(0.5) and float(lv.exp()) == pytest.approx(0.5)


def test_vade_kl_reduces_to_the_gaussian_kl_for_one_component():
    prior = parts.MoGPrior(1, 2)
    prior.init_from(np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2)))
    mu, lv = torch.randn(5, 2), torch.randn(5, 2) * 0.3
    z = parts.reparameterise(mu, lv)
    with torch.no_grad():
        assert float(parts.kl_mog(prior, mu, lv, z)) == pytest.approx(float(parts.kl_standard(mu, lv)), abs=1e-5)


def test_vector_denoiser_matches_the_unet_call_signature():
    net = parts.VectorDenoiser(5, 3, 16)
    out = net(torch.randn(4, 5), torch.tensor([1, 2, 3, 4]), image_cond=torch.randn(4, 5),
              vector_cond=torch.randn(4, 3))
    assert out.shape == (4, 5)


# ------------------------------------------------------------------ MNIST-Text
def test_spell_and_decode_round_trip():
    tokens = spell(np.arange(10), seed=3)
    assert tokens.shape == (10, 8) and tokens.min() >= 0 and tokens.max() < VOCAB_SIZE
    assert [s.strip() for s in decode(tokens)] == ["zero", "one", "two", "three", "four", "five", "six", "seven",
                                                   "eight", "nine"]
    assert ALPHABET[0] == " "


def test_text_errors():
    with pytest.raises(ValueError, match="not in the MNIST-Text alphabet"):
        encode(["ten!"])
    with pytest.raises(ValueError, match="token ids"):
        decode([[VOCAB_SIZE]])
    with pytest.raises(ValueError, match="at least 5"):
        spell([3], length=4)


def test_mnist_text_pairs_real_images_with_their_names(shared_data_dir):
    d = mnist_text(shared_data_dir, max_samples=200)
    assert d.x_train.shape == (200, 1, 28, 28) and d.x_test.shape == (2000, 1, 28, 28)
    names = [s.strip() for s in decode(d.t_test[:20])]
    assert names == [["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][y]
                     for y in d.y_test[:20]]


# ------------------------------------------------------------------ study
def test_budgets_exist_for_both_profiles():
    smoke, full = budget("04_dmvae", "smoke"), budget("04_dmvae", "full")
    assert full.n_seeds == 3 and full.seeds(0) == (0, 1, 2)
    assert smoke.config("cub") is smoke.features and smoke.config("mnist") is smoke.image


def _fake_raw():
    rows = []
    for ds in ("mnist", "cub"):
        for s in (0, 1):
            r = {"dataset": ds, "seed": s, **{m: 0.5 + 0.01 * s for m in study.LATENT_METRICS}}
            for method in study.READOUTS:
                r.update({f"{method}/{m}": (10.0 if method == "D-MVAE" else 20.0) + s for m in study.GEN_METRICS})
            if ds == "cub":
                for method in study.READOUTS:
                    r[f"{method}/translation_acc"] = np.nan
            rows.append(r)
    return pd.DataFrame(rows)


def test_result_rows_are_measurements_with_their_stand_in():
    stats = study.summary(_fake_raw())
    rows = study.result_rows(stats)
    assert {r["method"] for r in rows} == set(study.READOUTS)
    assert all(r["note"].startswith("substituted:") for r in rows)
    assert not [r for r in rows if r["dataset"] == "cub" and r["metric"] == "translation_acc"]
    fid = next(r for r in rows if r["metric"] == "fid" and r["method"] == "D-MVAE" and r["dataset"] == "mnist")
    assert fid["mean"] == pytest.approx(10.5) and fid["std"] == pytest.approx(0.5) and fid["scale"] == "raw"
    table = study.main_table(stats, "mnist")
    assert list(table.index) == list(study.READOUTS) and "FID" in table


def test_paper_beside_ours_reads_the_ledger():
    table = study.paper_beside_ours(study.summary(_fake_raw()))
    assert len(table) == 11  # 6 F1 + 2 FID + 2 similarity + attribute accuracy
    assert (table[table.method == "M-GAN"].ours == "not run").all()
    assert (table[table["paper data"] == "CelebA-HQ"].ours == "not run").all()


def test_cluster_order_matches_clusters_to_classes():
    y = np.array([0, 0, 1, 1, 2, 2])
    labels = np.array([2, 2, 0, 0, 1, 1])
    assert study.cluster_order(labels, y, 3).tolist() == [2, 0, 1]


def test_fid_uses_held_out_pairs_only_and_kid_decides_below_the_dimension():
    """FID/KID compare generations with held-out pairs only (CUB: the 120 held-out pairs, never the 480 training
    pairs), and the generation table names the feature space, the extractor's accuracy and the deciding score."""
    rng = np.random.default_rng(0)
    pairs = study.Pairs("cub", (rng.normal(size=(48, 16)), rng.normal(size=(48, 4))), np.arange(48) % 3,
                        (rng.normal(size=(12, 16)), rng.normal(size=(12, 4))), np.arange(12) % 3, 3)
    real, text, labels = study.translation_inputs(pairs, fid_samples=1000)
    assert np.array_equal(real, pairs.test[0]) and np.array_equal(text, pairs.test[1]) and len(labels) == 12
    raw = _fake_raw()
    for method in study.READOUTS:
        raw[f"{method}/fid_n"] = np.where(raw.dataset == "cub", 120, 1000)
        raw[f"{method}/fid_dims"] = np.where(raw.dataset == "cub", 1024, 128)
        raw[f"{method}/kid"] = 0.01
    table = study.generation_table(raw, study.summary(raw), extractor_acc=0.97)
    assert set(table.loc["CUB"].decides) == {"KID"} and set(table.loc["MNIST-Text"].decides) == {"FID"}
    assert (table.loc["MNIST-Text"]["extractor held-out acc"] == "97.0 %").all()
    assert table.loc["CUB"]["held-out samples × dims"].iloc[0] == "120 × 1024"
