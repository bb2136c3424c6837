"""The validators accept every legitimate model shape and refuse what they exist to refuse."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from crmml.persistence import LoadLimits, ModelLoadError, load, save
from crmml.persistence._ubj import check_xgboost_model, parse_ubj
from crmml.persistence._validate import json_depth, load_array, load_json


@pytest.fixture
def xy():
    rng = np.random.default_rng(3)
    X = rng.random((120, 4))
    return X, (X[:, 0] * 3).astype(int), X[:, 1] * 10


def test_legitimate_models_of_every_tree_shape_pass_the_validators(tmp_path, xy):
    import xgboost as xgb
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    X, y3, r = xy
    cases = [
        (xgb.XGBClassifier(n_estimators=4, max_depth=3, n_jobs=1).fit(X, y3), "predict_proba"),  # 3 classes
        (xgb.XGBRegressor(n_estimators=4, n_jobs=1).fit(X, r), "predict"),
        (RandomForestRegressor(n_estimators=3, random_state=0).fit(X, r), "predict"),
        (DecisionTreeClassifier(random_state=0).fit(X, np.c_[y3, y3 > 0]), "predict"),            # 2 outputs
        (DecisionTreeRegressor(max_depth=0 + 1).fit(X, r), "predict"),
        (DecisionTreeClassifier().fit(X, np.zeros(len(X), int)), "predict"),                      # one node
    ]
    for i, (model, method) in enumerate(cases):
        back = load(save(model, tmp_path / f"m{i}.zip"))
        assert np.array_equal(getattr(back, method)(X), getattr(model, method)(X)), type(model).__name__


def test_ubj_parser_reads_what_xgboost_writes(xy):
    import xgboost as xgb

    X, y3, _ = xy
    booster = xgb.XGBClassifier(n_estimators=2, max_depth=2, n_jobs=1).fit(X, y3 > 0).get_booster()
    doc = parse_ubj(bytes(booster.save_raw("ubj")))
    import json

    ref = json.loads(booster.save_raw("json"))
    tree, ref_tree = doc["learner"]["gradient_booster"]["model"]["trees"][0], \
        ref["learner"]["gradient_booster"]["model"]["trees"][0]
    assert tree["left_children"].tolist() == ref_tree["left_children"]
    assert tree["split_indices"].tolist() == ref_tree["split_indices"]
    assert doc["learner"]["learner_model_param"] == ref["learner"]["learner_model_param"]
    with pytest.raises(ModelLoadError, match="not valid UBJSON"):
        check_xgboost_model(b"{" * 10, "xgboost/0001.ubj")
    with pytest.raises(ModelLoadError, match="is invalid"):
        check_xgboost_model(b"{}", "xgboost/0001.ubj")


def test_json_depth_is_counted_on_the_parsed_document():
    assert json_depth(json.loads(b'["[[[[", {"a\\"[[": ["]"]}]')) == 3
    assert json_depth(1) == 0
    with pytest.raises(ModelLoadError, match="nests too deeply to parse"):
        load_json(b"[" * 200_000 + b"]" * 200_000, "metadata.json", LoadLimits())
    with pytest.raises(ModelLoadError, match="is not valid JSON"):
        load_json(b"\xff\xfe", "metadata.json", LoadLimits())


@pytest.mark.parametrize("dtype", ["<f8", "<i4", "|b1", "<U3", "<M8[ns]", "<c16"])
def test_plain_arrays_round_trip_through_the_npy_validator(dtype):
    a = np.zeros((2, 3), dtype=dtype)
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(a), allow_pickle=False)
    back = load_array(buf.getvalue(), "arrays/0000.npy")
    assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a)


def test_record_arrays_are_refused_outside_trees():
    buf = io.BytesIO()
    np.save(buf, np.zeros(2, dtype=[("a", "<i8"), ("b", "<f8")]), allow_pickle=False)
    with pytest.raises(ModelLoadError, match="has a record dtype"):
        load_array(buf.getvalue(), "arrays/0000.npy")
    assert load_array(buf.getvalue(), "arrays/0000.npy", structured_ok=True).shape == (2,)


def test_save_refuses_state_that_load_would_refuse(tmp_path):
    from crmml._utils import ProbabilityCalibrator

    cal = ProbabilityCalibrator().fit(np.linspace(0, 1, 20), (np.linspace(0, 1, 20) > 0.5).astype(int))
    deep = []
    for _ in range(80):
        deep = [deep]
    cal.extra_ = deep
    with pytest.raises(TypeError, match=r"its state nests \d+ levels deep and load refuses more than 64"):
        save(cal, tmp_path / "deep.zip")


def test_kmeans_thread_count_and_centres_are_not_taken_from_the_file(tmp_path, xy):
    import os
    import sys

    from sklearn.cluster import KMeans

    sys.path.insert(0, os.path.dirname(__file__))
    import _fuzz_cases as fc

    X = xy[0]
    path = save(KMeans(3, n_init=1, random_state=0).fit(X), tmp_path / "km.zip")
    members = fc.members_of(path)

    def threads(meta):
        meta["root"]["state"]["_n_threads"] = 10**9

    path.write_bytes(fc.zip_bytes(fc._edit_meta(members, threads)))
    assert 1 <= load(path)._n_threads <= (os.cpu_count() or 1)
    centres = json.loads(members["metadata.json"])["root"]["state"]["cluster_centers_"]["file"]
    path.write_bytes(fc.zip_bytes(fc._edit_array(members, centres, lambda a: a[:, :2].copy())))
    with pytest.raises(ModelLoadError, match="cluster_centers_ that are not a float array with n_features_in_=4"):
        load(path)
