"""Model files written by crmml 0.1.0 (tests/data/models_v0_1, see make.py there) load and give their recorded answers.

These files were written once, by the 0.1.0 writer, and are never regenerated: they are how every later release
proves it still reads old models. Each model is scored on its stored model-level input (RFM table, churn feature
matrix, leads frame, customer ids), so a later change in how features are computed from transactions cannot move
these answers; answers are compared exactly, except floats that come out of xgboost (the churn model), compared to
rtol=1e-12, and those computed by crmml arithmetic that other open work rewrites for exactness (the lead scorer's
feature encoding, the CLV model's BG/NBD expectation moving to log space), compared to rtol=1e-9: a later release
may differ in the last bits there, never more. Next-best-offer scores are float32 and the similarity part's row
total is now summed in float64 (2026-12), so they may differ by a float32 rounding (rtol=1e-6); since equal scores
rank in product order (2026-12), a recorded product may be replaced only by one with exactly its score.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmml.persistence import ModelLoadError, load, read_metadata

DATA = Path(__file__).parents[1] / "data" / "models_v0_1"
NAMES = ["rfm_segmenter", "clusterer", "rule_segmenter", "clv", "churn", "lead_scorer", "rule_lead_scorer",
         "next_best_offer"]
RTOL = {"churn": 1e-12, "lead_scorer": 1e-9, "clv": 1e-9}


def _predict(name, model, data):
    if name in ("rfm_segmenter", "clusterer", "rule_segmenter"):
        return model.transform(data).reset_index()
    if name == "clv":
        return model.predict().loc[data["customer_id"]].reset_index()
    if name == "churn":
        return pd.DataFrame(model.predict_proba(data)).rename(columns=str)
    if name in ("lead_scorer", "rule_lead_scorer"):
        return model.score_leads(data).reset_index()
    return model.recommend(data["customer_id"].to_numpy(), k=3).reset_index()


def _assert_same_offers_up_to_ties(model, data, got, expected):
    """Same customers, ranks and scores (float32 rounding), reasons of the same kind; where the product differs,
    the recorded product scores exactly the same for that customer (a tie, now broken by product order)."""
    pd.testing.assert_frame_equal(got[["index", "customer_id", "rank"]], expected[["index", "customer_id", "rank"]],
                                  check_exact=True)
    np.testing.assert_allclose(got["score"], expected["score"], rtol=1e-6, atol=0)
    moved = np.nonzero((got["product_id"] != expected["product_id"]).to_numpy())[0]
    assert len(moved) <= 0.02 * len(got)
    deeper = model.recommend(data["customer_id"].to_numpy(), k=10).set_index(["customer_id", "product_id"])["score"]
    for i in moved:
        row = expected.iloc[i]
        assert deeper.loc[(row["customer_id"], row["product_id"])] == got["score"].iloc[i]
    same = np.ones(len(got), dtype=bool)
    same[moved] = False
    assert (got["reason"].to_numpy()[same] == expected["reason"].to_numpy()[same]).all()


def test_the_legacy_files_are_from_0_1_and_small():
    assert (DATA / "VERSION").read_text().strip() == "0.1.0"
    assert sum(p.stat().st_size for p in DATA.iterdir()) < 1_000_000
    for name in NAMES:
        meta = read_metadata(DATA / f"{name}.zip")
        assert meta["crmml_version"] == "0.1.0" and meta["format_version"] == 1


def _libraries_older_than_saved(meta) -> list[str]:
    from crmml.persistence._versions import library_versions, major_minor

    installed = library_versions()
    return [lib for lib, v in meta["library_versions"].items()
            if lib in installed and lib in ("scikit-learn", "xgboost") and major_minor(v) > major_minor(installed[lib])]


@pytest.mark.parametrize("name", NAMES)
def test_legacy_model_gives_its_recorded_answers(name):
    """Under older scikit-learn/xgboost than the file was written with (the lower-bounds job), a file holding that
    library's objects is refused by the version policy, with the upgrade to make: that refusal is asserted instead."""
    older = _libraries_older_than_saved(read_metadata(DATA / f"{name}.zip"))
    try:
        model = load(DATA / f"{name}.zip")
    except ModelLoadError as exc:
        assert older and any(f"saved with {lib}" in str(exc) and "upgrade" in str(exc) for lib in older), exc
        return
    data = pd.read_parquet(DATA / f"{name}_input.parquet")
    expected = pd.read_parquet(DATA / f"{name}_expected.parquet")
    got = _predict(name, model, data)
    if name == "next_best_offer":
        _assert_same_offers_up_to_ties(model, data, got, expected)
    elif name in RTOL:
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=RTOL[name], atol=0)
    else:
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert len(got) > 0
    if name == "churn":  # a model that learned something: the recorded probabilities are not all equal
        assert np.unique(got["1"]).size > 10
