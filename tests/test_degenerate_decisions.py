"""Degenerate but valid data at the entry points of ``crmml.decisions`` and the time-to-churn path.

The rules of ``tests/test_degenerate_inputs.py`` (its ``check_error`` and ``check_result``), applied to
:class:`UpliftModel` (every learner), the uplift metrics, :class:`RetentionPlanner` and ``crmml prioritise``,
:class:`TimeToChurnModel`, :class:`CoxBaseline` and :func:`survival_backtest`: each call gives a well-formed result
(finite numbers, NaN only where the output documents it, an empty frame only with a crmml warning) or a named crmml
error raised by crmml's own code with a message saying what to fix. Estimators are kept small (a few trees).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from test_degenerate_inputs import check_error, check_result

from crmml.exceptions import DataError, DroppedCustomersWarning, InsufficientDataWarning, ParameterError


def outcome(call, nan_ok=()):
    """The result of ``call()`` checked as a result (no NaN but in ``nan_ok`` columns) or as a named error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call()
        except Exception as exc:                          # noqa: BLE001 - the class is what is checked
            check_error(exc)
            return exc
    check_result(out, caught)
    if isinstance(out, (pd.DataFrame, pd.Series)):
        frame = out.to_frame() if isinstance(out, pd.Series) else out
        numbers = frame.select_dtypes("number").drop(columns=list(nan_ok), errors="ignore")
        assert not numbers.isna().to_numpy().any(), f"NaN in {numbers.columns[numbers.isna().any()].tolist()}"
    elif isinstance(out, float):
        assert np.isfinite(out), out
    return out


# ----------------------------------------------------------------------------------------------------- uplift
N = 120
_rng = np.random.default_rng(0)
X0 = pd.DataFrame({"x1": _rng.normal(size=N), "x2": _rng.integers(0, 5, N).astype(float)},
                  index=pd.RangeIndex(1000, 1000 + N, name="customer_id"))
T0 = np.where(np.arange(N) % 2 == 0, "mail", "none").astype(object)
Y0 = (_rng.random(N) < 0.3 + 0.2 * (T0 == "mail")).astype(int)


def _small_arm(k, continuous=False):
    t = np.full(N, "none", dtype=object)
    t[:k] = "mail"
    y = np.r_[np.arange(k) % 2, Y0[k:]].astype(float)
    return X0, t, y + _rng.normal(size=N) if continuous else y, "none"


#: name -> () -> (X, treatment, y, control)
UPLIFT = {
    **{f"arm of {k} rows": (lambda k=k: _small_arm(k)) for k in (1, 2, 5)},
    **{f"arm of {k} rows, amounts": (lambda k=k: _small_arm(k, True)) for k in (1, 2, 5)},
    "treated outcome all 0": lambda: (X0, T0, np.where(T0 == "mail", 0, Y0), "none"),
    "treated outcome all 1": lambda: (X0, T0, np.where(T0 == "mail", 1, Y0), "none"),
    "every outcome 0": lambda: (X0, T0, np.zeros(N, int), "none"),
    "constant amount": lambda: (X0, T0, np.full(N, 3.5), "none"),
    "treatment NaN": lambda: (X0, np.where(np.arange(N) == 3, None, T0), Y0, "none"),
    "arms 0/1 ints": lambda: (X0, (T0 == "mail").astype(int), Y0, None),
    "arms 1/2 ints, control 1": lambda: (X0, (T0 == "mail").astype(int) + 1, Y0, 1),
    "control absent": lambda: (X0, T0, Y0, "nobody"),
    "constant column": lambda: (X0.assign(c=1.0), T0, Y0, "none"),
    "all-NaN column": lambda: (X0.assign(c=np.nan), T0, Y0, "none"),
    "text column": lambda: (X0.assign(c=np.where(np.arange(N) % 3 == 0, "a", "b")), T0, Y0, "none"),
    "single feature": lambda: (X0[["x1"]], T0, Y0, "none"),
    "duplicated index": lambda: (X0.set_axis(np.repeat(np.arange(N // 2), 2)), T0, Y0, "none"),
    "y Series with other labels": lambda: (X0, T0, pd.Series(Y0, index=X0.index[::-1]), "none"),
    "three arms, one of 1 row": lambda: (X0, np.where(np.arange(N) == 0, "sms", T0), Y0, "none"),
}
#: the cases about arms and outcomes run with every learner; the others with the default and the T-learner
ARM_CASES = [c for c in UPLIFT if c.startswith(("arm of", "treated", "every", "constant amount"))]
LEARNERS = ("shift", "t", "s", "st", "shared", "x", "dr", "auto")
UPLIFT_PAIRS = [(c, lrn) for c in UPLIFT for lrn in (LEARNERS if c in ARM_CASES else ("shift", "t"))]


def _uplift(learner, **kw):
    from crmml.decisions import UpliftModel

    return UpliftModel(learner=learner, n_estimators=4, min_child_weight=1.0, n_folds=2, **kw)


@pytest.mark.parametrize("case, learner", UPLIFT_PAIRS, ids=[f"{c}-{lrn}" for c, lrn in UPLIFT_PAIRS])
def test_uplift_model_on_degenerate_data(case, learner):
    from crmml.decisions import qini_coefficient

    X, t, y, control = UPLIFT[case]()
    m = outcome(lambda: _uplift(learner).fit(X, t, y, control=control))
    if isinstance(m, Exception):
        return
    outcome(lambda: m.predict_uplift(X))
    for value, cost in ((2.0, 0.1), (1.0, 5.0), (1.0, 0.0)):          # cost larger than the value at most
        rec = outcome(lambda: m.recommend(X, value=value, cost=cost))
        assert rec.index.equals(X.index) and set(rec["arm"]) <= {m.control_, *m.arms_}
    arm = m.arms_[0]
    rows = np.isin(np.asarray(t, dtype=object).astype(str), [arm, m.control_])
    outcome(lambda: qini_coefficient(np.asarray(y, float)[rows], np.asarray(t, dtype=object).astype(str)[rows] == arm,
                                     m.predict_uplift(X)[arm].to_numpy()[rows]))


@pytest.mark.parametrize("value, cost", [(1.0, -0.5), (pd.Series(1.0, index=X0.index[::-1]), 0.0),
                                         (1.0, pd.Series(0.1, index=X0.index[:10])), (float("nan"), 0.0),
                                         ({"mail": 1.0, "sms": 1.0}, 0.0)],
                         ids=["negative cost", "value Series", "cost Series not aligned", "NaN value", "unknown arm"])
def test_uplift_recommend_refuses_bad_value_and_cost(value, cost):
    m = _uplift("t").fit(X0, T0, Y0, control="none")
    exc = outcome(lambda: m.recommend(X0, value=value, cost=cost))
    assert isinstance(exc, ParameterError)


def test_shift_learner_with_an_arm_too_small_to_hold_out():
    """Before: the held-out choice of rounds fitted the arm's model on fit rows of one outcome (all responders), and
    xgboost's "Invalid classes inferred" ValueError escaped. Now the arm keeps its constant alone (0 rounds)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x1": rng.normal(size=60)})
    t = np.where(np.arange(60) < 3, "mail", "none")
    y = (np.arange(60) % 3 == 0).astype(int)
    y[:3] = [0, 1, 1]
    m = outcome(lambda: _uplift("shift", random_state=24).fit(X, t, y, control="none"))
    assert "g:mail" not in m.models_ and np.isfinite(m.predict_uplift(X).to_numpy()).all()


def test_dr_learner_names_the_arm_too_small_for_its_halves():
    """Before: a half of the cross-fitting with one outcome in an arm raised xgboost's ValueError."""
    X, t, y, control = _small_arm(2)
    exc = outcome(lambda: _uplift("dr").fit(X, t, y, control=control))
    assert isinstance(exc, DataError) and "arm 'mail' (2 rows, 1 with outcome 1)" in str(exc)


def test_auto_leaves_out_a_candidate_the_folds_are_too_small_for():
    X, t, y, control = _small_arm(5, continuous=True)
    with pytest.warns(InsufficientDataWarning, match="leaves out 1 of its 7 candidates \\('dr'\\)"):
        m = _uplift("auto").fit(X, t, y, control=control)
    assert "dr" not in m.selection_.index and m.learner_ in m.selection_.index


@pytest.mark.parametrize("k", [1, 2])
def test_auto_names_the_arm_too_small_for_its_folds(k):
    """Before: a fold without the arm failed in qini_curve ('y and score must be finite') or in a fold's fit ('the
    outcome is constant in arm'), though the arm's outcome is not constant."""
    X, t, y, control = _small_arm(k)
    exc = outcome(lambda: _uplift("auto").fit(X, t, y, control=control))
    assert isinstance(exc, DataError) and "learner='auto' cross-validates on 2 folds" in str(exc)
    assert f"arm 'mail' ({k} rows" in str(exc)


# ----------------------------------------------------------------------------------------------------- metrics
M = 40
_w = np.arange(M) % 2
_y = (np.random.default_rng(1).random(M) < 0.3).astype(int)
_s = np.random.default_rng(2).random(M)
METRIC_DATA = {
    "all treated": (_y, np.ones(M, int), _s),
    "all control": (_y, np.zeros(M, int), _s),
    "constant scores": (_y, _w, np.zeros(M)),
    "NaN score": (_y, _w, np.where(np.arange(M) == 3, np.nan, _s)),
    "fewer rows than deciles": (_y[:6], _w[:6], _s[:6]),
    "every outcome 0": (np.zeros(M), _w, _s),
    "treated NaN": (_y, np.where(np.arange(M) == 3, np.nan, _w), _s),
}
METRIC_PAIRS = [(c, f) for c in METRIC_DATA for f in ("qini_curve", "qini_coefficient", "auuc", "uplift_by_decile")]


@pytest.mark.parametrize("case, name", METRIC_PAIRS, ids=[f"{c}-{f}" for c, f in METRIC_PAIRS])
def test_uplift_metrics_on_degenerate_data(case, name):
    import crmml.decisions as d

    outcome(lambda: getattr(d, name)(*METRIC_DATA[case]))


def test_uplift_by_decile_refuses_fewer_rows_than_bins():
    """Before: 6 rows in 10 bins gave 4 bins of no rows, with NaN response rates and no word said."""
    from crmml.decisions import uplift_by_decile

    exc = outcome(lambda: uplift_by_decile(*METRIC_DATA["fewer rows than deciles"]))
    assert isinstance(exc, DataError) and "pass n_bins=6 or fewer" in str(exc)
    assert len(outcome(lambda: uplift_by_decile(*METRIC_DATA["fewer rows than deciles"], n_bins=3))) == 3


ARMS = np.where(_w == 1, "a", "b")
POLICY_CASES = {
    "one arm only": (_y, np.full(M, "a"), {"all_a": np.full(M, "a")}, {}),
    "propensity 0": (_y, ARMS, {"all_a": np.full(M, "a")}, {"propensity": {"a": 0.0, "b": 1.0}}),
    "no rows": (_y[:0], ARMS[:0], {"all_a": ARMS[:0]}, {}),                  # before: NaN and RuntimeWarnings
    "no policy": (_y, ARMS, {}, {}),                                          # before: numpy's concatenate error
    "policy arm never in the test": (_y, np.full(M, "a"), {"all_b": np.full(M, "b")}, {}),
    "outcome all 0": (np.zeros(M), ARMS, {"all_a": np.full(M, "a")}, {}),
}


@pytest.mark.parametrize("case", POLICY_CASES)
def test_policy_value_on_degenerate_data(case):
    from crmml.decisions import policy_value

    y, t, policies, kw = POLICY_CASES[case]
    out = outcome(lambda: policy_value(y, t, policies, n_bootstrap=20, **kw))
    if case.startswith("no "):
        assert isinstance(out, (DataError, ParameterError))


# -------------------------------------------------------------------------------------------------- retention
@pytest.fixture(scope="module")
def crm_tx():
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=300, seed=4, with_events=False).transactions


def _planner(churn_model=None):
    from crmml.churn import ChurnModel
    from crmml.decisions import RetentionPlanner

    cm = ChurnModel(n_estimators=10, min_child_weight=1) if churn_model is None else churn_model
    return RetentionPlanner(churn_model=cm, windows=(30, 90, 365), n_reasons=1)


@pytest.fixture(scope="module")
def planner(crm_tx):
    return _planner().fit(crm_tx, "2024-07-01")


PLANS = {
    "budget 0": dict(cost=1.0, effect=0.2, budget=0),
    "budget above the total cost": dict(cost=1.0, effect=0.2, budget=1e9),
    "cost Series missing customers": dict(cost="missing", effect=0.2),
    "effect Series missing customers": dict(cost=1.0, effect="missing"),
    "effect above 1": dict(cost=1.0, effect=1.5),
    "effect below 0": dict(cost=1.0, effect=-0.1),
    "effect 0": dict(cost=0.0, effect=0.0),
    "negative cost": dict(cost=-1.0, effect=0.2),
}


@pytest.mark.parametrize("case", PLANS)
def test_retention_plan_on_degenerate_arguments(planner, case):
    ids = planner.scores_.index
    kw = {k: pd.Series(0.3, index=ids[:-3]) if v == "missing" else v for k, v in PLANS[case].items()}
    plan = outcome(lambda: planner.plan(**kw))
    if case == "budget 0":
        assert not plan["selected"].any()
    if case == "budget above the total cost":
        assert (plan["selected"] == (plan["expected_net_gain"] > 0)).all()


@pytest.mark.parametrize("case", ["one customer", "nobody at risk", "one customer, time to churn"])
def test_retention_fit_on_degenerate_data(crm_tx, case):
    from crmml.churn import TimeToChurnModel

    one = crm_tx[crm_tx["customer_id"] == crm_tx["customer_id"].value_counts().index[0]]
    tx, as_of = (crm_tx, "2027-01-01") if case == "nobody at risk" else (one, "2024-07-01")
    cm = TimeToChurnModel(n_estimators=5, windows=(30, 90, 365)) if "time" in case else None
    outcome(lambda: _planner(cm).fit(tx, as_of))


@pytest.mark.parametrize("args", [["--budget", "0"], ["--budget", "1e12"], ["--effect", "1.5"], ["--cost", "-1"]])
def test_prioritise_on_degenerate_arguments(planner, tmp_path, args, capsys):
    from crmml.cli import main
    from crmml.persistence import save

    model = tmp_path / "planner.zip"
    save(planner, model)
    code = main(["prioritise", "--model", str(model), "--output", str(tmp_path / "plan.csv"), *args])
    err = capsys.readouterr().err
    if args[0] in ("--effect", "--cost"):
        assert code == 2 and "Traceback" not in err and ("effect" in err or "cost" in err)
    else:
        assert code == 0 and len(pd.read_csv(tmp_path / "plan.csv")) == len(planner.scores_)


# ------------------------------------------------------------------------------------------- time to churn
W = (30, 90, 365)


@pytest.fixture(scope="module")
def ttc(crm_tx):
    from crmml.churn import TimeToChurnModel

    return TimeToChurnModel(n_estimators=5, windows=W).fit(crm_tx, "2024-07-01")


def _busy():
    """40 customers who buy every 3 days: nobody churns."""
    days = pd.date_range("2023-01-01", "2024-06-30", freq="3D")
    return pd.DataFrame([(i, d, 10.0) for i in range(1, 41) for d in days],
                        columns=["customer_id", "timestamp", "amount"])


SURVIVAL_FITS = {
    "everyone churned": (lambda tx: tx[tx["timestamp"] < "2024-03-01"], {}),
    "nobody churned": (lambda tx: _busy(), {}),
    "nobody churned, 1-day periods": (lambda tx: _busy(), dict(period_days=1, max_days=30)),
    "one snapshot": (lambda tx: tx, dict(n_snapshots=1)),
    "one period of one day": (lambda tx: tx, dict(period_days=1, max_days=1)),
    "nobody active at as_of": (lambda tx: tx[tx["timestamp"] < "2023-05-01"], dict(n_snapshots=1,
                                                                                    snapshot_step_days=400)),
}


@pytest.mark.parametrize("case", SURVIVAL_FITS)
def test_time_to_churn_on_degenerate_data(crm_tx, case):
    from crmml.churn import TimeToChurnModel

    data, kw = SURVIVAL_FITS[case]
    m = outcome(lambda: TimeToChurnModel(n_estimators=5, windows=W, **kw).fit(data(crm_tx), "2024-07-01"))
    if not isinstance(m, Exception):
        outcome(lambda: m.predict_survival(days=[m.max_days], with_median=True))
        outcome(lambda: m.predict_expected_days())


@pytest.mark.parametrize("days", [[0], [1e9], [2**70], [], ["x"], [[1, 2], [3]], [0.5], [180]])
def test_time_to_churn_days(ttc, days):
    """Before: days=['x'] (or ragged lists) raised numpy's 'could not convert string to float'."""
    out = outcome(lambda: ttc.predict_survival(days=days))
    if days not in ([0.5], [180]):
        assert isinstance(out, ParameterError)


def test_time_to_churn_says_why_nobody_is_scored(crm_tx, ttc):
    """Before: an as_of after every customer's look-back window gave an empty frame and no word."""
    for call in (lambda: ttc.predict_survival(transactions=crm_tx, as_of="2030-01-01"),
                 lambda: ttc.predict_median(transactions=crm_tx, as_of="2030-01-01")):
        with pytest.warns(DroppedCustomersWarning, match="no customer is at risk as of 2030-01-01"):
            out = call()
        assert isinstance(out, (pd.DataFrame, pd.Series)) and len(out) == 0


@pytest.mark.parametrize("case", ["every row an event", "no event", "one row", "every time 0", "constant features",
                                  "days 0 and huge"])
def test_cox_baseline_on_degenerate_data(ttc, case):
    from crmml.churn import CoxBaseline

    X = ttc.features_
    n = len(X)
    t, e = np.arange(n) % 50 + 1.0, np.arange(n) % 2
    args = {"every row an event": (X, t, np.ones(n, int)), "no event": (X, t, np.zeros(n, int)),
            "one row": (X.iloc[:1], [5.0], [1]), "every time 0": (X, np.zeros(n), e),
            "constant features": (X.assign(purchase_recency_all=3.0, purchase_count_all=2.0), t, e)}.get(case, (X, t, e))
    cox = outcome(lambda: CoxBaseline().fit(*args))
    if not isinstance(cox, Exception):
        outcome(lambda: cox.predict_survival(args[0], [0, 1e300] if case == "days 0 and huge" else [5, 30]))


@pytest.mark.parametrize("case", ["everyone churned in the test", "nobody churned", "one snapshot", "horizon 1"])
def test_survival_backtest_on_degenerate_data(crm_tx, case):
    """Before, 'everyone churned in the test': concordance_index's 'no comparable pair', naming no cutoff."""
    from crmml.churn import ChurnModel, TimeToChurnModel, survival_backtest

    tx = crm_tx[["customer_id", "timestamp", "amount"]]
    late = pd.DataFrame({"customer_id": [99999], "timestamp": [pd.Timestamp("2024-09-01")], "amount": [5.0]})
    data = {"everyone churned in the test": pd.concat([tx[tx["timestamp"] < "2024-06-01"], late]),
            "nobody churned": _busy()}.get(case, tx)
    kw = dict(model=TimeToChurnModel(n_estimators=5, windows=W, n_snapshots=1 if case == "one snapshot" else 2),
              churn_model=ChurnModel(n_estimators=5, min_child_weight=1), n_churn_snapshots=1,
              horizon_days=1 if case == "horizon 1" else 45)
    out = outcome(lambda: survival_backtest(data, ["2024-05-01" if case == "nobody churned" else "2024-06-01"], **kw),
                  nan_ok=("concordance", "ibs", "roc_auc_1d", "roc_auc_45d"))
    if case == "everyone churned in the test":
        assert isinstance(out, DataError) and "cutoff 2024-06-01" in str(out)


def test_crmml_score_survival_in_parts_of_lapsed_customers_says_nothing(crm_tx, ttc, tmp_path, capsys):
    """A part (--batch) of customers none of whom is at risk scores nobody, as the whole file does: no warning."""
    from crmml.cli import main
    from crmml.persistence import save

    lapsed = crm_tx.iloc[:1].assign(customer_id=777777, timestamp=pd.Timestamp("2020-01-05"))
    pd.concat([crm_tx, lapsed]).drop(columns="transaction_id").to_csv(tmp_path / "tx.csv", index=False)
    save(ttc, tmp_path / "ttc.zip")
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(tmp_path / "ttc.zip"), "--input", str(tmp_path / "tx.csv"), "--output",
                 str(out), "--as-of", "2024-07-01", "--batch", "1", "--quiet"]) == 0, capsys.readouterr().err
    assert "warning" not in capsys.readouterr().err
    assert len(pd.read_csv(out)) == len(ttc.features_)
