"""crmml.persistence: round trips without pickle, allowlist, version and tamper checks."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from crmml.persistence import ModelLoadError, load, read_metadata, save


@pytest.fixture
def xy(seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.random((300, 4)), columns=["recency", "frequency", "monetary", "tenure"])
    y = (X["recency"] + rng.normal(0, 0.2, 300) > 0.5).astype(int)
    return X, y


def _same(a, b):
    if hasattr(a, "toarray"):
        a, b = a.toarray(), b.toarray()
    return np.array_equal(np.asarray(a), np.asarray(b))


def _sklearn_cases(X, y):
    from sklearn.cluster import KMeans
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.mixture import GaussianMixture
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    cat = pd.DataFrame({"channel": np.where(X["tenure"] > 0.5, "web", "store"),
                        "region": (X["monetary"] * 3).astype(int)})
    return [
        ("tree", DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y), X, "predict_proba"),
        ("forest", RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), X, "predict_proba"),
        ("kmeans", KMeans(3, n_init=2, random_state=0).fit(X), X, "predict"),
        ("gmm", GaussianMixture(2, random_state=0).fit(X), X, "predict_proba"),
        ("onehot", OneHotEncoder(handle_unknown="ignore").fit(cat), cat, "transform"),
        ("logit", LogisticRegression().fit(X, y), X, "predict_proba"),
        ("pipeline", Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(X, y), X,
         "predict_proba"),
    ]


@pytest.mark.parametrize("fmt", ["zip", "dir"])
def test_sklearn_round_trips_give_identical_predictions(tmp_path, xy, fmt):
    X, y = xy
    for name, model, data, method in _sklearn_cases(X, y):
        path = save(model, tmp_path / (f"{name}.zip" if fmt == "zip" else name))
        assert path.is_file() == (fmt == "zip")
        back = load(path)
        assert type(back) is type(model)
        assert _same(getattr(back, method)(data), getattr(model, method)(data)), name
        assert back.get_params().keys() == model.get_params().keys()


def test_xgboost_round_trips(tmp_path, xy):
    import xgboost as xgb

    X, y = xy
    clf = xgb.XGBClassifier(n_estimators=15, max_depth=3, n_jobs=1).fit(X, y)
    reg = xgb.XGBRegressor(n_estimators=15, n_jobs=1).fit(X, X["monetary"])
    for model, method in ((clf, "predict_proba"), (reg, "predict")):
        back = load(save(model, tmp_path / f"{type(model).__name__}.zip"))
        assert np.array_equal(getattr(back, method)(X), getattr(model, method)(X))
    booster = load(save(clf.get_booster(), tmp_path / "booster.zip"))
    dm = xgb.DMatrix(X)
    assert np.array_equal(booster.predict(dm), clf.get_booster().predict(dm))
    with zipfile.ZipFile(tmp_path / "booster.zip") as zf:
        assert any(n.endswith(".ubj") for n in zf.namelist())
        assert not any(n.endswith((".pkl", ".pickle")) for n in zf.namelist())


def test_nested_state_types_round_trip(tmp_path):
    """Every value type of the persistence contract, inside a crmml-like estimator."""
    import scipy.sparse as sp
    from sklearn.base import BaseEstimator

    from crmml._utils import ProbabilityCalibrator

    cal = ProbabilityCalibrator().fit(np.linspace(0, 1, 50), (np.linspace(0, 1, 50) > 0.5).astype(int))
    cal.extra_ = {
        "ints": [1, 2, 3], "nested": {"a": (1.5, None, True, "x")}, "nan": float("nan"), "inf": -np.inf,
        "np_scalar": np.float32(2.5), "labels": np.array(["a", "bb"]),
        "frame": pd.DataFrame({"id": [3, 1], "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                               "seg": pd.Categorical(["hi", "lo"]), "name": ["x", "y"], "ok": [True, False]},
                              index=pd.Index([10, 20], name="customer_id")),
        "series": pd.Series([1.0, 2.0], index=pd.Index(["p", "q"], name="product_id"), name="score"),
        "index": pd.Index(["u", "v"], name="feature"), "ts": pd.Timestamp("2024-03-01"),
        "sparse": sp.random(5, 4, density=0.4, format="csc", random_state=0),
        "objects": np.array(["x", None], dtype=object),
    }
    back = load(save(cal, tmp_path / "cal.zip"))
    assert isinstance(back, ProbabilityCalibrator) and isinstance(back, BaseEstimator)
    assert np.array_equal(back.transform(np.linspace(0, 1, 7)), cal.transform(np.linspace(0, 1, 7)))
    e, b = cal.extra_, back.extra_
    assert b["ints"] == [1, 2, 3] and b["nested"] == {"a": (1.5, None, True, "x")}
    assert np.isnan(b["nan"]) and b["inf"] == -np.inf
    assert b["np_scalar"] == np.float32(2.5) and b["np_scalar"].dtype == np.float32
    assert np.array_equal(b["labels"], e["labels"])
    pd.testing.assert_frame_equal(b["frame"], e["frame"])
    pd.testing.assert_series_equal(b["series"], e["series"])
    pd.testing.assert_index_equal(b["index"], e["index"])
    assert b["ts"] == e["ts"]
    assert b["sparse"].format == "csc" and (b["sparse"] != e["sparse"]).nnz == 0
    assert b["objects"].tolist() == ["x", None]


def test_metadata_records_versions_class_and_features(tmp_path, xy):
    from sklearn.linear_model import LogisticRegression

    X, y = xy
    path = save(LogisticRegression(C=0.5).fit(X, y), tmp_path / "m.zip")
    meta = read_metadata(path)
    assert meta["class"].endswith("LogisticRegression") and meta["crmml_version"]
    assert meta["feature_names"] == list(X.columns)
    assert meta["params"]["C"] == 0.5
    assert {"numpy", "pandas", "scikit-learn", "xgboost"} <= set(meta["library_versions"])


def test_unsavable_state_is_refused(tmp_path):
    from crmml._utils import ProbabilityCalibrator

    cal = ProbabilityCalibrator()
    cal.rule_ = lambda x: x
    with pytest.raises(TypeError, match="Cannot save attribute 'rule_' of crmml._utils._calibration"
                                        ".ProbabilityCalibrator: it is a callable"):
        save(cal, tmp_path / "m.zip")
    with pytest.raises(TypeError, match="save expects an estimator; got dict"):
        save({"a": 1}, tmp_path / "d.zip")
    from sklearn.svm import SVC

    with pytest.raises(TypeError, match="Cannot save an object of class sklearn.svm._classes.SVC: only crmml"):
        save(SVC(), tmp_path / "svc.zip")
    with pytest.raises(ValueError, match="The 'format' parameter of save must be one of"):
        save(cal, tmp_path / "x", format="tar")
    with pytest.raises(TypeError, match="path must be a str or Path; got int"):   # was pathlib's TypeError
        save(cal, 5)


# ------------------------------------------------------------------------------------------- tampering
def _rewrite(path, edit):
    """Rewrite a zip member by member through ``edit(name, data) -> data or None (drop)``."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in members.items():
            d = edit(n, d)
            if d is not None:
                zf.writestr(n, d)


@pytest.fixture
def saved(tmp_path, xy):
    from sklearn.linear_model import LogisticRegression

    X, y = xy
    return save(LogisticRegression().fit(X, y), tmp_path / "model.zip")


def test_tampered_array_is_refused(saved):
    def flip(name, data):
        if name.endswith(".npy"):
            return data[:-8] + np.float64(99.0).tobytes()
        return data

    _rewrite(saved, flip)
    with pytest.raises(ModelLoadError, match=r"was tampered with or corrupted: the SHA-256 of \['arrays/"):
        load(saved)


def test_on_verified_sees_the_verified_metadata_and_never_a_tampered_file(saved):
    """load(on_verified=...) hands over the metadata read_metadata gives, once the file is verified; a file that
    fails verification never reaches it."""
    seen = []
    load(saved, on_verified=seen.append)
    assert seen == [read_metadata(saved)]
    _rewrite(saved, lambda n, d: d.replace(b'"C": 1.0', b'"C": 9.0') if n == "metadata.json" else d)
    with pytest.raises(ModelLoadError):
        load(saved, on_verified=seen.append)
    assert len(seen) == 1


def test_tampered_metadata_is_refused(saved):
    _rewrite(saved, lambda n, d: d.replace(b'"C": 1.0', b'"C": 9.0') if n == "metadata.json" else d)
    with pytest.raises(ModelLoadError, match=r"SHA-256 of \['metadata.json'\] does not match"):
        load(saved)


def test_added_and_removed_members_are_refused(saved, tmp_path):
    with zipfile.ZipFile(saved, "a") as zf:
        zf.writestr("extra/evil.npy", b"x")
    with pytest.raises(ModelLoadError, match=r"tampered with or is incomplete: members added \['extra/evil.npy'\]"):
        load(saved)
    _rewrite(saved, lambda n, d: None if n.endswith(".npy") or n.startswith("extra") else d)
    with pytest.raises(ModelLoadError, match=r"missing \['arrays/"):
        load(saved)


def _resign(path, edit_meta):
    """A forger who rewrites metadata and recomputes the plain SHA-256 manifest."""
    import hashlib

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["metadata.json"])
    edit_meta(meta)
    members["metadata.json"] = json.dumps(meta).encode()
    files = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n != "manifest.json"}
    members["manifest.json"] = json.dumps({"algorithm": "sha256", "files": files}).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, d in members.items():
            zf.writestr(n, d)


def test_unknown_class_is_refused(saved):
    def evil(meta):
        meta["class"] = meta["root"]["class"] = "os.system"

    _resign(saved, evil)
    with pytest.raises(ModelLoadError, match="Refusing to load class 'os.system': it is not in the allowlist"):
        load(saved)


def test_nested_unknown_class_is_refused(saved):
    def evil(meta):
        meta["root"]["params"]["C"] = {"__type__": "estimator", "class": "subprocess.Popen",
                                       "params": {}, "state": {}}

    _resign(saved, evil)
    with pytest.raises(ModelLoadError, match="Refusing to load class 'subprocess.Popen'"):
        load(saved)


def test_crmml_non_estimator_is_refused(saved):
    def evil(meta):
        meta["class"] = meta["root"]["class"] = "crmml.persistence.save"

    _resign(saved, evil)
    with pytest.raises(ModelLoadError, match="Refusing to load 'crmml.persistence.save': it is not a crmml"):
        load(saved)


def test_other_major_version_is_refused(saved):
    _resign(saved, lambda meta: meta.update(crmml_version="7.0.0"))
    with pytest.raises(ModelLoadError, match=r"was saved by crmml 7.0.0; this is crmml .*same major version"):
        load(saved)


def test_signed_models_detect_a_resigned_manifest(tmp_path, xy):
    from sklearn.linear_model import LogisticRegression

    X, y = xy
    path = save(LogisticRegression().fit(X, y), tmp_path / "signed.zip", key="s3cret")
    assert np.array_equal(load(path, key="s3cret").predict(X), load(path).predict(X))
    with pytest.raises(ModelLoadError, match="failed its signature check"):
        load(path, key="other")
    _resign(path, lambda meta: meta.update(created="now"))
    with pytest.raises(ModelLoadError, match="is not signed, but a key was given"):
        load(path, key="s3cret")


def test_not_a_model(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_text("hello")
    with pytest.raises(ModelLoadError, match="is not a crmml model file"):
        load(bad)
    with pytest.raises(ModelLoadError, match="No saved model at"):
        load(tmp_path / "missing.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="metadata.json or manifest.json is missing"):
        load(tmp_path / "empty")


def test_folder_format_is_tamper_checked(tmp_path, xy):
    from sklearn.linear_model import LogisticRegression

    X, y = xy
    path = save(LogisticRegression().fit(X, y), tmp_path / "model_dir")
    assert (path / "metadata.json").exists() and (path / "manifest.json").exists()
    npy = next((path / "arrays").glob("*.npy"))
    npy.write_bytes(npy.read_bytes()[:-1] + b"\x01")
    with pytest.raises(ModelLoadError, match="tampered"):
        load(path)


# ------------------------------------------------------------------------------ every fitted crmml object
@pytest.fixture(scope="module")
def small_crm():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=400, seed=7)


def _crmml(module, name):
    mod = pytest.importorskip(f"crmml.{module}")
    if not hasattr(mod, name):
        pytest.skip(f"crmml.{module}.{name} is not available")
    return getattr(mod, name)


def _as_of(crm):
    return crm.start + pd.Timedelta(days=500)


def _round_trip(obj, tmp_path, name):
    back = load(save(obj, tmp_path / f"{name}.zip"))
    assert type(back) is type(obj)
    return back


def test_rfm_segmenter_round_trip(tmp_path, small_crm):
    rfm_table = _crmml("segmentation", "rfm_table")
    RFMSegmenter = _crmml("segmentation", "RFMSegmenter")
    rfm = rfm_table(small_crm.transactions, _as_of(small_crm))
    seg = RFMSegmenter().fit(rfm)
    pd.testing.assert_frame_equal(_round_trip(seg, tmp_path, "rfm").transform(rfm), seg.transform(rfm))


def test_customer_clusterer_round_trip(tmp_path, small_crm):
    rfm_table = _crmml("segmentation", "rfm_table")
    CustomerClusterer = _crmml("segmentation", "CustomerClusterer")
    rfm = rfm_table(small_crm.transactions, _as_of(small_crm))
    clus = CustomerClusterer(n_clusters=3, random_state=0).fit(rfm)
    pd.testing.assert_frame_equal(_round_trip(clus, tmp_path, "clus").transform(rfm), clus.transform(rfm))


def test_clv_model_round_trip(tmp_path, small_crm):
    CLVModel = _crmml("clv", "CLVModel")
    model = CLVModel(horizon_days=180).fit(small_crm.transactions, _as_of(small_crm))
    back = _round_trip(model, tmp_path, "clv")
    meta = read_metadata(tmp_path / "clv.zip")
    assert meta["schema"]["frame"] == "transactions" and "customer_id" in meta["schema"]["required"]
    pd.testing.assert_frame_equal(back.predict(), model.predict())
    later = _as_of(small_crm) + pd.Timedelta(days=60)
    pd.testing.assert_frame_equal(back.predict(small_crm.transactions, as_of=later),
                                  model.predict(small_crm.transactions, as_of=later))


@pytest.mark.parametrize("kind", ["logistic", "xgboost"])
def test_lead_scorer_round_trip(tmp_path, small_crm, kind):
    LeadScorer = _crmml("scoring", "LeadScorer")
    model = LeadScorer(model=kind, cv=2, random_state=0).fit(small_crm.leads)
    back = _round_trip(model, tmp_path, f"leads_{kind}")
    pd.testing.assert_frame_equal(back.score_leads(small_crm.leads), model.score_leads(small_crm.leads))
    pd.testing.assert_frame_equal(back.contributions(small_crm.leads), model.contributions(small_crm.leads))


def test_rule_lead_scorer_round_trip(tmp_path, small_crm):
    RuleLeadScorer = _crmml("scoring", "RuleLeadScorer")
    rng = np.random.default_rng(0)
    leads = pd.DataFrame({"lead_id": np.arange(1, 51), **{c: rng.integers(0, 2, 50) for c in
                                                         ("budget", "authority", "need", "timeline")}})
    model = RuleLeadScorer().fit()
    back = _round_trip(model, tmp_path, "rules")
    pd.testing.assert_frame_equal(back.score_leads(leads), model.score_leads(leads))


def test_next_best_offer_round_trip(tmp_path, small_crm):
    NextBestOffer = _crmml("recommend", "NextBestOffer")
    model = NextBestOffer().fit(small_crm.transactions, small_crm.products, as_of=_as_of(small_crm))
    back = _round_trip(model, tmp_path, "nbo")
    ids = small_crm.customers["customer_id"].to_numpy()[:50]
    pd.testing.assert_frame_equal(back.recommend(ids, k=5), model.recommend(ids, k=5))


def test_churn_model_round_trip(tmp_path, small_crm):
    ChurnModel = _crmml("churn", "ChurnModel")
    make_churn_snapshot = _crmml("churn", "make_churn_snapshot")
    X, y = make_churn_snapshot(small_crm.transactions, _as_of(small_crm), 60, windows=(30, 90, 365))
    model = ChurnModel(n_estimators=30, n_jobs=1).fit(X, y.to_numpy())
    back = _round_trip(model, tmp_path, "churn")
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_frame_equal(back.explain(X, top_n=2), model.explain(X, top_n=2))


def test_rule_segmenter_round_trip(tmp_path, small_crm):
    rfm_table = _crmml("segmentation", "rfm_table")
    RuleSegmenter = _crmml("segmentation", "RuleSegmenter")
    rfm = rfm_table(small_crm.transactions, _as_of(small_crm))
    rs = RuleSegmenter({"big": "monetary > 500", "active": "recency < 30"}, default="other").fit(rfm)
    pd.testing.assert_frame_equal(_round_trip(rs, tmp_path, "rules_seg").transform(rfm), rs.transform(rfm))


def test_clv_component_models_round_trip(tmp_path):
    from crmml.datasets import load_cdnow_summary

    summary = load_cdnow_summary()
    for name in ("BetaGeoModel", "ParetoNBDModel"):
        model = _crmml("clv", name)().fit(summary)
        back = _round_trip(model, tmp_path, name)
        pd.testing.assert_series_equal(back.conditional_expected_purchases(summary, 39.0),
                                       model.conditional_expected_purchases(summary, 39.0))
    rng = np.random.default_rng(0)
    spend = pd.DataFrame({"frequency": rng.integers(1, 6, 300), "monetary_value": rng.gamma(4, 10, 300)})
    gg = _crmml("clv", "GammaGammaModel")().fit(spend)
    pd.testing.assert_series_equal(_round_trip(gg, tmp_path, "gg").conditional_expected_spend(spend),
                                   gg.conditional_expected_spend(spend))


def test_churn_baseline_round_trip(tmp_path, small_crm):
    Baseline = _crmml("churn", "RecencyFrequencyBaseline")
    make_churn_snapshot = _crmml("churn", "make_churn_snapshot")
    X, y = make_churn_snapshot(small_crm.transactions, _as_of(small_crm), 60, windows=(30, 90, 365))
    model = Baseline().fit(X, y.to_numpy())
    assert np.array_equal(_round_trip(model, tmp_path, "rf").predict_proba(X), model.predict_proba(X))


def test_folder_save_overwrites_a_model_but_not_other_files(tmp_path, xy):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y = xy
    path = save(LogisticRegression().fit(X, y), tmp_path / "model")
    save(StandardScaler().fit(X), path)                     # re-saving over a model folder is fine
    assert type(load(path)).__name__ == "StandardScaler"
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="the folder holds files that are not part of a crmml model"):
        save(StandardScaler().fit(X), tmp_path / "notes")


def test_schema_mismatch_is_refused(tmp_path, small_crm):
    RFMSegmenter = _crmml("segmentation", "RFMSegmenter")
    rfm_table = _crmml("segmentation", "rfm_table")
    path = save(RFMSegmenter().fit(rfm_table(small_crm.transactions, _as_of(small_crm))), tmp_path / "rfm.zip")
    assert read_metadata(path)["schema"]["frame"] == "transactions"

    def other_schema(meta):
        meta["schema"]["required"] = {"client": "id"}

    _resign(path, other_schema)
    with pytest.raises(ModelLoadError, match=r"was saved for the 'transactions' schema \{'client': 'id'\}"):
        load(path)
