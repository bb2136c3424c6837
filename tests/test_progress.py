"""Progress bars (``verbose=True``) on the long fits and loops: a tqdm bar on stderr naming the stage, nothing with
``verbose=False``, and the same results bit for bit either way. The new parameter is an ordinary constructor
parameter: cloned, saved with the model, and absent from older files (which load with the default).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmml._utils import progress, steps
from crmml.churn import ChurnModel, TimeToChurnModel, make_churn_snapshot, survival_backtest
from crmml.clv import FeatureCLVModel
from crmml.datasets import make_synthetic_crm
from crmml.decisions import RetentionPlanner, UpliftModel
from crmml.exceptions import InsufficientDataWarning, ParameterError
from crmml.persistence import load, save
from crmml.scoring import LeadScorer

WINDOWS = (30, 90, 365)
AS_OF = "2024-07-01"


@pytest.fixture(scope="module")
def crm():
    return make_synthetic_crm(n_customers=500, seed=0, with_events=False)


@pytest.fixture(scope="module")
def snapshots(crm):
    cuts = [pd.Timestamp(AS_OF) - pd.Timedelta(days=45 * k) for k in (3, 2, 1)]
    parts = [make_churn_snapshot(crm.transactions, c, 45, windows=WINDOWS) for c in cuts]
    X = pd.concat([p[0] for p in parts])
    y = np.concatenate([p[1].to_numpy() for p in parts])
    t = np.concatenate([np.full(len(p[1]), np.datetime64(c.to_datetime64())) for p, c in zip(parts, cuts)])
    return X, y, t


def _both(capsys, run):
    """``run(verbose)`` quiet then verbose: (quiet result, its stderr, verbose result, its stderr)."""
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = run(False)
        err_quiet = capsys.readouterr().err
        loud = run(True)
        err_loud = capsys.readouterr().err
    return quiet, err_quiet, loud, err_loud


def _check_bar(err_quiet, err_loud, *names):
    assert err_quiet == ""
    assert "|" in err_loud and "100%" in err_loud         # a tqdm bar, run to its end
    for name in names:
        assert name in err_loud, f"{name!r} not in the progress output {err_loud[-300:]!r}"


def test_churn_model_fit_shows_its_stages(capsys, snapshots):
    X, y, t = snapshots
    q, eq, v, ev = _both(capsys, lambda verbose: ChurnModel(n_estimators=30, min_child_weight=1,
                                                           verbose=verbose).fit(X, y, time=t))
    _check_bar(eq, ev, "ChurnModel.fit", "early-stopped boosting", "forward fold on", "refit on all")
    np.testing.assert_array_equal(q.predict_proba(X), v.predict_proba(X))
    assert (q.best_iteration_, q.learning_rate_, q.validation_) == (v.best_iteration_, v.learning_rate_,
                                                                   v.validation_)
    pd.testing.assert_frame_equal(q.selection_, v.selection_, check_exact=True)


def test_time_to_churn_model_fit_shows_its_stages(capsys, crm):
    q, eq, v, ev = _both(capsys, lambda verbose: TimeToChurnModel(n_estimators=20, windows=WINDOWS,
                                                                 verbose=verbose).fit(crm.transactions, AS_OF))
    _check_bar(eq, ev, "TimeToChurnModel.fit", "snapshot 2024-05-17", "boosting on", "features as of 2024-07-01")
    pd.testing.assert_frame_equal(q.predict_survival(days=[30, 90]), v.predict_survival(days=[30, 90]),
                                  check_exact=True)


def test_survival_backtest_shows_the_cutoffs_and_nested_model_bars(capsys, crm):
    def run(verbose):
        return survival_backtest(crm.transactions, ["2024-05-01", "2024-06-01"],
                                 model=TimeToChurnModel(n_estimators=20, windows=WINDOWS, verbose=verbose),
                                 churn_model=ChurnModel(n_estimators=20, min_child_weight=1), verbose=verbose)

    q, eq, v, ev = _both(capsys, run)
    _check_bar(eq, ev, "survival_backtest", "2/2", "TimeToChurnModel.fit")
    pd.testing.assert_frame_equal(q, v, check_exact=True)


def test_feature_clv_model_fit_shows_its_stages(capsys, crm):
    q, eq, v, ev = _both(capsys, lambda verbose: FeatureCLVModel(horizon_days=90, n_estimators=20,
                                                                verbose=verbose).fit(crm.transactions, AS_OF))
    _check_bar(eq, ev, "FeatureCLVModel.fit", "snapshot 2024-04-02", "purchases model", "revenue interval model",
               "BG/NBD + Gamma-Gamma as of 2024-07-01")
    pd.testing.assert_frame_equal(q.predict(crm.transactions), v.predict(crm.transactions), check_exact=True)
    pd.testing.assert_frame_equal(q.selection_, v.selection_, check_exact=True)


def test_uplift_model_fit_shows_folds_candidates_and_bootstrap_draws(capsys):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=600), "region": rng.choice(["n", "s"], 600)})
    arm = rng.choice(["none", "mail"], 600)
    y = rng.normal(size=600) + (arm == "mail") * X["x"]
    q, eq, v, ev = _both(capsys, lambda verbose: UpliftModel(learner="auto", n_folds=2, n_bootstrap=2,
                                                            n_estimators=10, verbose=verbose).fit(
        X, arm, y, control="none"))
    _check_bar(eq, ev, "UpliftModel.fit", "fold 2/2: 'dr' learner", "learner on every row", "bootstrap draw 2/2")
    pd.testing.assert_frame_equal(q.selection_, v.selection_, check_exact=True)
    pd.testing.assert_frame_equal(q.predict_uplift(X), v.predict_uplift(X), check_exact=True)
    pd.testing.assert_frame_equal(q.predict_interval(X), v.predict_interval(X), check_exact=True)


@pytest.mark.parametrize("churn", ["churn_model", "time_to_churn"])
def test_retention_planner_fit_shows_its_stages(capsys, crm, churn):
    cm = (ChurnModel(n_estimators=20, min_child_weight=1) if churn == "churn_model"
          else TimeToChurnModel(n_estimators=20, windows=WINDOWS))
    q, eq, v, ev = _both(capsys, lambda verbose: RetentionPlanner(churn_model=cm, windows=WINDOWS,
                                                                 verbose=verbose).fit(crm.transactions, AS_OF))
    stage = "churn snapshot 2024-05-17" if churn == "churn_model" else "time-to-churn model"
    _check_bar(eq, ev, "RetentionPlanner.fit", "features as of 2024-07-01", stage, "CLV model")
    pd.testing.assert_frame_equal(q.scores_, v.scores_, check_exact=True)


def test_lead_scorer_fit_shows_folds_refit_and_sub_scores(capsys, crm):
    leads = crm.leads.assign(score_time=crm.leads["created_at"] + pd.Timedelta(days=14))
    q, eq, v, ev = _both(capsys, lambda verbose: LeadScorer(cv=3, random_state=0, verbose=verbose).fit(
        leads, crm.lead_events))
    _check_bar(eq, ev, "LeadScorer.fit", "features of 500 leads and their events", "leakage screen",
               "logistic fold 3/3", "xgboost fold 1/3", f"calibrated {q.model_kind_} on all 500 leads",
               "fit sub-score, ", "engagement sub-score on all 500 leads", "17/17")
    pd.testing.assert_frame_equal(q.cv_results_, v.cv_results_, check_exact=True)
    pd.testing.assert_frame_equal(q.oof_, v.oof_, check_exact=True)
    pd.testing.assert_frame_equal(q.score_leads(leads, crm.lead_events), v.score_leads(leads, crm.lead_events),
                                  check_exact=True)


def test_lead_scorer_fallback_shows_a_one_stage_bar(capsys, crm):
    q, eq, v, ev = _both(capsys, lambda verbose: LeadScorer(min_leads=10_000, verbose=verbose).fit(crm.leads))
    _check_bar(eq, ev, "LeadScorer.fit", "fallback for 500 leads", "1/1")
    pd.testing.assert_frame_equal(q.score_leads(crm.leads), v.score_leads(crm.leads), check_exact=True)


ESTIMATORS = [ChurnModel, TimeToChurnModel, FeatureCLVModel, UpliftModel, RetentionPlanner, LeadScorer]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_verbose_is_a_constructor_parameter(cls):
    est = cls(verbose=True)
    assert cls().get_params()["verbose"] is False
    assert clone(est).get_params()["verbose"] is True
    assert "verbose : bool, default=False" in cls.__doc__


def test_a_verbose_that_is_not_true_or_false_is_refused(snapshots):
    X, y, t = snapshots
    with pytest.raises(ParameterError, match="'verbose' parameter of ChurnModel"):
        ChurnModel(verbose="yes").fit(X, y, time=t)
    with pytest.raises(ParameterError, match="'verbose' parameter of LeadScorer"):
        LeadScorer(verbose="yes").fit(X)    # checked with the other parameters, before the data


def _legacy(name):
    """A crmml 0.1.0 model file, loaded; None where the installed scikit-learn/xgboost is older than the one that
    wrote it (the lower-bounds job), after checking the version policy refuses it with the upgrade to make."""
    from crmml.persistence import ModelLoadError, read_metadata
    from crmml.persistence._versions import library_versions, major_minor

    path = Path(__file__).parent / "data" / "models_v0_1" / f"{name}.zip"
    installed = library_versions()
    older = [lib for lib, v in read_metadata(path)["library_versions"].items()
             if lib in ("scikit-learn", "xgboost") and lib in installed and major_minor(v) > major_minor(installed[lib])]
    if not older:
        return load(path)
    with pytest.raises(ModelLoadError, match="upgrade"):
        load(path)
    return None


def test_verbose_is_saved_with_the_model_and_older_files_load_without_it(tmp_path, snapshots):
    X, y, t = snapshots
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ChurnModel(n_estimators=20, min_child_weight=1, verbose=True).fit(X, y, time=t)
    back = load(save(m, tmp_path / "churn.zip"))
    assert back.verbose is True
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))
    old = _legacy("churn")                                          # written before verbose existed
    assert old is None or old.get_params()["verbose"] is False


def test_lead_scorer_keeps_verbose_when_saved_and_its_older_files_load(tmp_path, crm):
    m = LeadScorer(model="logistic", cv=3, random_state=0, verbose=True).fit(crm.leads)
    back = load(save(m, tmp_path / "leads.zip"))
    assert back.verbose is True and type(back).__module__ == "crmml.scoring._scorer"
    pd.testing.assert_frame_equal(back.score_leads(crm.leads), m.score_leads(crm.leads), check_exact=True)
    # written before verbose existed and the fold code moved (its scores: tests/persistence/test_legacy_models.py)
    old = _legacy("lead_scorer")
    assert old is None or old.get_params()["verbose"] is False


def test_recency_frequency_baseline_files_name_its_old_module():
    """Files saved before the baseline moved to churn/_baseline.py name crmml.churn._model.RecencyFrequencyBaseline."""
    from crmml.churn import RecencyFrequencyBaseline
    from crmml.persistence._allowlist import resolve_class

    assert resolve_class("crmml.churn._model.RecencyFrequencyBaseline") is RecencyFrequencyBaseline


def test_churn_model_warnings_point_at_the_line_that_called_fit():
    """fit runs inside a progress block: its warnings name the caller's line. The baseline's warning named the
    caller's caller before (one frame too far); a boosted model that cannot split ships the baseline and warns."""
    rng = np.random.default_rng(0)
    r, f = rng.integers(1, 300, 400).astype(float), rng.integers(1, 20, 400).astype(float)
    X = pd.DataFrame({"purchase_recency_all": r, "purchase_count_all": f})
    y = (r / 300 - f / 20 + rng.normal(0, 0.2, 400) > 0).astype(int)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = ChurnModel(n_estimators=2, min_child_weight=1e6).fit(X, y)
    assert m.chosen_ == "recency_frequency_baseline"
    kinds = {w.category: Path(w.filename).name for w in rec if w.category in (InsufficientDataWarning, UserWarning)}
    assert kinds == {InsufficientDataWarning: Path(__file__).name, UserWarning: Path(__file__).name}


def test_steps_counts_names_widens_and_fills(capsys):
    with steps(2, verbose=True, desc="demo") as step:
        step("first")
        step("second")
        step("third")                                      # one more than announced: the bar widens
    err = capsys.readouterr().err
    assert "demo" in err and "third" in err and "3/3" in err
    with steps(5, verbose=True, desc="short") as step:
        step("only", total=3)                              # the real count, once known; skipped stages fill
    assert "3/3" in capsys.readouterr().err
    with steps(2, verbose=False, desc="quiet") as step:
        step("nothing")
    assert list(progress(range(3), verbose=False)) == [0, 1, 2]
    assert capsys.readouterr().err == ""
