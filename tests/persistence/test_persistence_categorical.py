"""Churn models with categorical features (text customer attributes) save, load and predict the same, and their
categorical xgboost arrays are checked before xgboost reads them.

Until 2026-12-07 the xgboost validator refused every categorical split and every category encoding, so a
``ChurnModel`` trained with a text column (e.g. ``customers.region``) saved but never loaded again
("tree 153 has categorical splits, which crmml does not load").
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from crmml.persistence import ModelLoadError, load, save
from crmml.persistence._ubj import check_xgboost_model, parse_ubj

_MARK = {np.dtype("int8"): b"i", np.dtype("uint8"): b"U", np.dtype("int16"): b"I", np.dtype("int32"): b"l",
         np.dtype("int64"): b"L", np.dtype("float32"): b"d", np.dtype("float64"): b"D"}


def _len(n: int) -> bytes:
    return b"L" + int(n).to_bytes(8, "big")


def ubj(v) -> bytes:
    """UBJSON as xgboost writes it (the subset crmml's parser reads): the test's way to write an edited model."""
    if isinstance(v, dict):
        return b"{" + b"".join(_len(len(k.encode())) + k.encode() + ubj(x) for k, x in v.items()) + b"}"
    if isinstance(v, np.ndarray):
        a = v.astype(v.dtype.newbyteorder(">"))
        return b"[$" + _MARK[v.dtype.newbyteorder("=")] + b"#" + _len(len(v)) + a.tobytes()
    if isinstance(v, list):
        return b"[" + b"".join(ubj(x) for x in v) + b"]"
    if isinstance(v, bool):
        return b"T" if v else b"F"
    if isinstance(v, int):
        return b"L" + v.to_bytes(8, "big", signed=True)
    if isinstance(v, float):
        return b"D" + np.array(v, ">f8").tobytes()
    if isinstance(v, str):
        return b"S" + _len(len(v.encode())) + v.encode()
    raise TypeError(type(v))


@pytest.fixture(scope="module")
def categorical_churn(tmp_path_factory):
    from crmml.churn import ChurnModel, make_churn_snapshot
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=1500, seed=1)
    as_of = crm.start + pd.Timedelta(days=400)
    X, y = make_churn_snapshot(crm.transactions, as_of, 45, events=crm.events, customers=crm.customers)
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    model = ChurnModel(random_state=0).fit(X, y)
    path = save(model, tmp_path_factory.mktemp("cat") / "churn.zip")
    return model, X, text, path


def _booster_doc(path):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith(".ubj"))
        return parse_ubj(z.read(name))


def test_a_churn_model_with_text_attributes_loads_and_predicts_the_same(categorical_churn):
    model, X, text, path = categorical_churn
    assert text, "the synthetic customers have text attributes"
    doc = _booster_doc(path)
    trees = doc["learner"]["gradient_booster"]["model"]["trees"]
    assert sum(int(np.sum(t["split_type"])) for t in trees) > 0, "the test needs categorical splits"
    back = load(path)
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    assert ubj(doc) and check_xgboost_model(ubj(doc), "x.ubj") is None       # the writer gives a valid model


def _edited(doc, edit):
    import copy

    d = copy.deepcopy(doc)
    edit(d["learner"]["gradient_booster"]["model"], d["learner"])
    return ubj(d)


def _cat_tree(model):
    return next(t for t in model["trees"] if np.any(t["split_type"] == 1))


def _cat_feature(model):
    return int(np.flatnonzero(np.diff(model["cats"]["feature_segments"]) > 0)[0])


ATTACKS = {
    "split_type 2": (lambda m, lr: _cat_tree(m)["split_type"].__setitem__(0, 2), "split_type does not hold"),
    "categorical leaf": (lambda m, lr: _cat_tree(m)["split_type"].__setitem__(-1, 1),
                         "categories_nodes are not the tree's categorical split nodes"),
    "node list lies": (lambda m, lr: _cat_tree(m).__setitem__("categories_nodes", np.array([], np.int32)),
                       "categories_nodes are not"),
    "segment past the end": (lambda m, lr: _cat_tree(m)["categories_sizes"].__setitem__(-1, 10**6),
                             "categories_segments"),
    "negative size": (lambda m, lr: _cat_tree(m)["categories_sizes"].__setitem__(0, -1), "categories_segments"),
    "unknown category": (lambda m, lr: _cat_tree(m)["categories"].__setitem__(0, 10**6),
                         "names a category its feature does not have"),
    "negative category": (lambda m, lr: _cat_tree(m)["categories"].__setitem__(0, -5), "cut categories in order"),
    "huge bitset without encodings": (
        lambda m, lr: (m.__setitem__("cats", {}), _cat_tree(m)["categories"].__setitem__(0, 2**31 - 1)),
        "bits of bitsets"),
    "split on a numeric feature": (
        lambda m, lr: lr["feature_types"].__setitem__(
            int(_cat_tree(m)["split_indices"][_cat_tree(m)["categories_nodes"][0]]), "float"),
        "whose type is not categorical"),
    "offsets past the values": (lambda m, lr: m["cats"]["enc"][_cat_feature(m)]["offsets"].__setitem__(-1, 10**6),
                                "category offsets of feature"),
    "sorted_idx out of range": (lambda m, lr: m["cats"]["sorted_idx"].__setitem__(0, 10**6), "not a permutation"),
    "segments past sorted_idx": (lambda m, lr: m["cats"]["feature_segments"].__setitem__(-1, 10**6),
                                 "feature_segments are not offsets"),
    "one encoding missing": (lambda m, lr: m["cats"]["enc"].pop(), "one encoding per feature"),
    "categories disagree": (lambda m, lr: m["cats"]["enc"][_cat_feature(m)].__setitem__(
        "offsets", m["cats"]["enc"][_cat_feature(m)]["offsets"][:-1]), "category offsets of feature"),
}


#: attacks on the category encodings (``cats``), which xgboost writes from 3.1 on; without them a category code
#: is bounded by the bitset budget only (an unknown code then just never matches, as xgboost reads it)
NEEDS_ENCODINGS = {"unknown category", "offsets past the values", "sorted_idx out of range",
                   "segments past sorted_idx", "one encoding missing", "categories disagree"}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_edited_categorical_arrays_are_refused_before_xgboost_reads_them(categorical_churn, attack):
    edit, match = ATTACKS[attack]
    doc = _booster_doc(categorical_churn[3])
    if attack in NEEDS_ENCODINGS and not doc["learner"]["gradient_booster"]["model"].get("cats"):
        pytest.skip("this xgboost stores no category encodings (xgboost < 3.1)")
    data = _edited(doc, edit)
    with pytest.raises(ModelLoadError, match=match):
        check_xgboost_model(data, "xgboost/0001.ubj")
