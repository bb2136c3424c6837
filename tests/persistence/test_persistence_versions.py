"""Version policy of crmml.persistence: what a file records, and which files this installation refuses."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import xgboost

import crmml
from crmml.persistence import FORMAT_VERSION, ModelLoadError, load, read_metadata, save

sys.path.insert(0, str(Path(__file__).parent))
import _fuzz_cases as fc  # noqa: E402


def _bump(version: str, minor: int = 1, major: int = 0) -> str:
    a, b = (int(x) for x in version.split(".")[:2])
    return f"{a + major}.{b + minor}.0"


@pytest.fixture
def models(tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    from crmml.segmentation import RFMSegmenter

    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = (X[:, 0] > 0.5).astype(int)
    rfm = pd.DataFrame({"recency": rng.integers(1, 300, 60), "frequency": rng.integers(1, 9, 60),
                        "monetary": rng.gamma(2, 50, 60)}, index=pd.Index(range(60), name="customer_id"))
    return {"tree": save(DecisionTreeClassifier(max_depth=3).fit(X, y), tmp_path / "tree.zip"),
            "xgb": save(xgboost.XGBClassifier(n_estimators=3, n_jobs=1).fit(X, y), tmp_path / "xgb.zip"),
            "rfm": save(RFMSegmenter().fit(rfm), tmp_path / "rfm.zip"), "X": X}


def _edit(path, edit):
    members = fc.members_of(path)
    path.write_bytes(fc.zip_bytes(fc._edit_meta(members, edit)))
    return path


def _lib(name, version):
    return lambda m: m["library_versions"].__setitem__(name, version)


def test_metadata_records_every_library_and_the_reader_format(models):
    meta = read_metadata(models["tree"])
    assert {"numpy", "pandas", "scikit-learn", "xgboost", "scipy", "pyarrow"} <= set(meta["library_versions"])
    assert meta["library_versions"]["scikit-learn"] == sklearn.__version__
    assert meta["format_version"] == FORMAT_VERSION and meta["min_reader_format_version"] <= FORMAT_VERSION


def test_newer_scikit_learn_minor_is_refused_with_the_fix(models):
    newer = _bump(sklearn.__version__)
    _edit(models["tree"], _lib("scikit-learn", newer))
    mm = ".".join(newer.split(".")[:2])
    here = ".".join(sklearn.__version__.split(".")[:2])
    with pytest.raises(ModelLoadError, match=rf"saved with scikit-learn {newer}, newer than the installed .* not "
                                             rf"forward compatible: upgrade scikit-learn to >= {mm} or re-save the "
                                             rf"model with scikit-learn {here}"):
        load(models["tree"])
    assert read_metadata(models["tree"])["library_versions"]["scikit-learn"] == newer   # still inspectable


def test_newer_xgboost_is_refused_older_loads(models):
    before = load(models["xgb"]).predict_proba(models["X"])
    older = _edit(models["xgb"], _lib("xgboost", "2.0.3"))
    assert np.array_equal(load(older).predict_proba(models["X"]), before)
    here = ".".join(xgboost.__version__.split(".")[:2])
    for newer in (_bump(xgboost.__version__), _bump(xgboost.__version__, major=1)):   # a newer minor, a newer major
        _edit(models["xgb"], _lib("xgboost", newer))
        mm = ".".join(newer.split(".")[:2])
        with pytest.raises(ModelLoadError, match=rf"saved with xgboost {newer}, newer than the installed .* "
                                                 rf"upgrade xgboost to >= {mm} or re-save the model with xgboost "
                                                 rf"{here}"):
            load(models["xgb"])
    patch = xgboost.__version__.split(".")
    _edit(models["xgb"], _lib("xgboost", ".".join([*patch[:2], str(int(patch[2].split("rc")[0]) + 1)])))
    assert np.array_equal(load(models["xgb"]).predict_proba(models["X"]), before)   # a newer patch loads


def test_newer_numpy_and_pandas_are_allowed(models):
    _edit(models["tree"], lambda m: m["library_versions"].update(numpy="99.0.0", pandas="99.1.0", scipy="9.9"))
    assert type(load(models["tree"])).__name__ == "DecisionTreeClassifier"


def test_library_versions_are_checked_only_for_the_objects_stored(models):
    _edit(models["rfm"], lambda m: m["library_versions"].update({"scikit-learn": "99.0", "xgboost": "99.0"}))
    assert type(load(models["rfm"])).__name__ == "RFMSegmenter"


def test_unreadable_or_missing_versions_are_refused(models):
    _edit(models["tree"], _lib("scikit-learn", "banana"))
    with pytest.raises(ModelLoadError, match="records an unreadable scikit-learn version 'banana'"):
        load(models["tree"])
    _edit(models["rfm"], lambda m: m.pop("library_versions"))
    with pytest.raises(ModelLoadError, match="does not record its library versions"):
        load(models["rfm"])


def test_newer_crmml_minor_needs_a_readable_format(models):
    newer = _bump(crmml.__version__)
    _edit(models["rfm"], lambda m: m.update(crmml_version=newer))          # still says min reader format 1
    assert type(load(models["rfm"])).__name__ == "RFMSegmenter"
    _edit(models["rfm"], lambda m: m.update(format_version=FORMAT_VERSION + 1,
                                            min_reader_format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelLoadError, match=rf"was saved by crmml {newer} \(format {FORMAT_VERSION + 1}\), newer "
                                             rf"than this crmml .* can read: upgrade crmml to >= "):
        load(models["rfm"])
    _edit(models["rfm"], lambda m: (m.pop("min_reader_format_version"), m.update(format_version=FORMAT_VERSION)))
    with pytest.raises(ModelLoadError, match="upgrade crmml to >= "):   # a newer minor that says nothing: refused
        load(models["rfm"])


def test_older_crmml_files_load(models):
    _edit(models["rfm"], lambda m: (m.pop("min_reader_format_version"), m.update(crmml_version="0.0.9")))
    assert type(load(models["rfm"])).__name__ == "RFMSegmenter"


@pytest.mark.parametrize("dist", ["xgboost", "xgboost-cpu"])
def test_xgboost_version_is_read_from_either_wheel(dist, monkeypatch):
    """xgboost installed as the CPU-only ``xgboost-cpu`` distribution (crmml's dependency on x86_64 Linux and Windows)
    records and checks its version like the full ``xgboost`` wheel."""
    import importlib.metadata as md

    from crmml.persistence._versions import library_versions

    real = md.version

    def version(name):
        if name in ("xgboost", "xgboost-cpu") and name != dist:
            raise md.PackageNotFoundError(name)
        return "9.8.7" if name == dist else real(name)

    monkeypatch.setattr(md, "version", version)
    assert library_versions()["xgboost"] == "9.8.7"
