"""The ``crmml`` command's decision paths: survival and uplift scoring, retention training and ``prioritise``.

Kept apart from :mod:`crmml.cli` (which registers them) so the decision tasks live in one place::

    crmml train survival --input tx.csv --model ttc.zip            # TimeToChurnModel
    crmml score --model ttc.zip --input tx.csv --output survival.csv --days 45,90,180
    crmml score --model uplift.zip --input customers.csv --output uplift.csv --value 30 --cost 0.1
    crmml train retention --input tx.csv --model planner.zip       # RetentionPlanner
    crmml prioritise --model planner.zip --cost 5 --effect 0.2 --budget 2000 --output plan.csv --report plan.html
"""

from __future__ import annotations

import warnings
from pathlib import Path

from crmml._cli_guard import UserError, load_model, model_key, raise_if_interrupted
from crmml._cli_io import as_of_arg, distinct_paths, read_input, read_transactions
from crmml._tables import _kind_of, write_table
from crmml.exceptions import DroppedCustomersWarning

__all__ = ["DECISION_TASKS", "add_decision_parsers", "add_score_options", "cmd_prioritise", "read_features"]


def _days(text):
    try:
        days = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError as exc:
        raise UserError(f"--days {text!r}: give comma-separated numbers of days, e.g. 45,90,180.") from exc
    if not days:
        raise UserError("--days needs at least one number of days.")
    return days


def _train_survival(args):
    from crmml.churn import TimeToChurnModel

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    model = TimeToChurnModel(verbose=not args.quiet).fit(tx, as_of)
    return model, f"{len(model.features_):,} active customers as of {as_of.date()} (snapshots {model.training_cutoffs_})"


def _score_survival(model, tx, as_of, args):
    if model.kind_ != "transactions":
        raise UserError("this TimeToChurnModel was fitted on a subscription table; score it in Python with "
                        "predict_survival(table=...).")
    days = _days(args.days)
    try:
        model._days(days, "crmml score")
    except ValueError as exc:
        raise UserError(f"--days {args.days!r}: {exc}") from exc
    with warnings.catch_warnings():     # a part (--batch) of lapsed customers only: none scored, as in one pass
        warnings.filterwarnings("ignore", ".*no customer is at risk", DroppedCustomersWarning)
        return model.predict_survival(days, transactions=tx, as_of=as_of, with_median=True)


def _train_retention(args):
    from crmml.decisions import RetentionPlanner

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    model = RetentionPlanner(horizon_days=args.churn_horizon_days, value_horizon_days=args.horizon_days,
                             verbose=not args.quiet).fit(tx, as_of)
    return model, f"{len(model.scores_):,} active customers as of {as_of.date()}"


def read_features(args):
    """A customer feature table (``customer_id`` + the model's columns) for the uplift model.

    Read like every other input (``--sep``, ``--encoding``, ``--map``; rows with a missing id refused or, with
    ``--bad-rows``, set aside); an id given twice is refused, since each customer gets one recommendation.
    """
    def unique(df):
        n_dup = int(df["customer_id"].duplicated().sum())
        if n_dup:
            raise UserError(f"{args.input}: customer_id must be unique ({n_dup} duplicates).")
        return df

    return read_input(args, "ids", unique)


def _score_uplift(model, df, as_of, args):
    X = df.set_index("customer_id")
    try:
        out = model.predict_uplift(X).add_prefix("uplift_")
    except ValueError as exc:                      # a column of the model missing or repeated in the file
        raise UserError(f"{args.input}: {exc}") from exc
    try:
        rec = model.recommend(X, value=args.value, cost=args.cost)
    except ValueError as exc:
        raise UserError(f"--value {args.value:g} / --cost {args.cost:g}: {exc}") from exc
    return out.join(rec[["arm", "expected_gain"]]).rename(columns={"arm": "recommended_arm"})


def _score_retention(model, tx, as_of, args):
    raise UserError("a RetentionPlanner is not scored: run 'crmml prioritise --model ...' for its plan.")


#: kind -> (class name, train function, score function, what score reads, partition key), as crmml.cli.TASKS
DECISION_TASKS = {
    "survival": ("TimeToChurnModel", _train_survival, _score_survival, "transactions", "customer_id"),
    "uplift": ("UpliftModel", None, _score_uplift, "features", "customer_id"),
    "retention": ("RetentionPlanner", _train_retention, _score_retention, "transactions", "customer_id"),
}


def add_score_options(s):
    """The ``score`` options of the decision models."""
    s.add_argument("--days", default="45,90,180", help="survival: horizons in days, comma-separated")
    s.add_argument("--value", type=float, default=1.0, help="uplift: value of one unit of outcome")
    s.add_argument("--cost", type=float, default=0.0, help="uplift: cost of treating one customer")


def add_decision_parsers(sub, mapping_help):
    """Register ``crmml prioritise``."""
    p = sub.add_parser("prioritise", help="retention list from a saved RetentionPlanner: value at risk, net gain")
    p.add_argument("--model", required=True, help="a RetentionPlanner saved by 'crmml train retention'")
    p.add_argument("--output", required=True, help="the plan as .csv or .parquet")
    p.add_argument("--cost", type=float, default=0.0, help="cost of the retention action per customer")
    p.add_argument("--effect", type=float, default=0.1, help="share of the churn risk the action removes, 0..1")
    p.add_argument("--budget", type=float, default=None, help="total cost allowed (default: no limit)")
    p.add_argument("--report", default=None, help="also write an HTML page of the plan")
    p.add_argument("--key", default=None, help="refuse the model unless it is signed with this secret")
    return p


def cmd_prioritise(args, say):
    """``crmml prioritise``: the ranked retention list (and an HTML page), written atomically."""
    from crmml._atomic import atomic_path

    _kind_of(Path(args.output))
    distinct_paths(model=args.model, output=args.output, report=args.report)
    model = load_model(args.model, model_key(args.key))
    if type(model).__name__ != "RetentionPlanner":
        raise UserError(f"{args.model}: a {type(model).__name__} cannot be used by 'crmml prioritise' "
                        "(train one with 'crmml train retention').")
    try:
        plan = model.plan(cost=args.cost, effect=args.effect, budget=args.budget)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    with atomic_path(args.output) as tmp:      # the plan is renamed into place only once the page is written too
        write_table(plan, tmp)
        raise_if_interrupted()
        if args.report:
            with atomic_path(args.report) as page:
                model.report(page, plan)
                raise_if_interrupted()
    sel = plan[plan["selected"]]
    say(f"{len(sel):,} of {len(plan):,} customers selected (cost {sel['cost'].sum():,.2f}, expected net gain "
        f"{sel['expected_net_gain'].sum():,.2f}) -> {args.output}")
    return 0
