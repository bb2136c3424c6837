"""The ``crmml`` command: ``demo``, ``train``, ``score`` and ``report``.

Examples (shell)::

    crmml demo --out demo_out
    crmml train segments --input tx.csv --model rfm.zip --map CustomerID=customer_id --map InvoiceDate=timestamp
    crmml score --model rfm.zip --input tx.parquet --output segments.parquet
    crmml report --input scored.csv --label churned --score probability --output churn_report.html

User mistakes (a missing file, a bad ``--map``, data that does not fit the
schema, a model file that fails its checks) and any other failure print one line
``crmml: error: ...`` on stderr and exit with status 2; ``--debug`` shows the
traceback instead. Warnings print as one line ``crmml: warning: ...``. ``--debug`` and
``--quiet`` go before or after the subcommand; ``crmml --version`` prints the version. Progress lines, and in
``train`` the fitting model's progress bar (tqdm), go to stderr unless ``--quiet``; stdout stays empty.

Input files (``--sep``, ``--encoding`` for CSV) are checked as a whole: every row that does
not fit the schema is reported in one run, grouped by column and problem with its file line
(the header is line 1), after that one error line. ``--bad-rows FILE`` instead uses the valid
rows and writes the rejected ones to FILE with ``crmml_line`` and ``crmml_reason``; the summary
line counts input, valid and rejected rows (see ``crmml._cli_io`` and ``crmml._bad_rows``).

Outputs (``score``/``report`` files, ``train`` models) are atomic: written beside the
target as ``.crmml-<pid>-<name>`` and renamed onto it when complete (see ``crmml._atomic``); two file
options naming one file (``--output`` = ``--input``) are refused before any work.
``--key`` (or ``$CRMML_MODEL_KEY``) signs models in ``train`` and is demanded by ``score``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from crmml._cli_decisions import DECISION_TASKS, add_decision_parsers, add_score_options, cmd_prioritise, read_features
from crmml._cli_guard import KEY_ENV, UserError, load_model, model_key, raise_if_interrupted, run_guarded
from crmml._cli_io import (ReadAhead, as_of_arg, check_probability, distinct_paths, parse_sep, read_input,
                           read_leads, read_transactions, step)
from crmml._tables import TableSink, _kind_of, parse_mapping, partitions, read_table, write_table

__all__ = ["main", "read_table", "write_table", "parse_mapping", "UserError", "TASKS"]


# --------------------------------------------------------------------------------------------------- tasks
def _train_segments(args):
    from crmml.segmentation import RFMSegmenter, rfm_table

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    rfm = rfm_table(tx, as_of)
    with step(args.say, f"fitting {'CustomerClusterer' if args.method == 'clusters' else 'RFMSegmenter'} on "
                        f"{len(rfm):,} customers"):
        if args.method == "clusters":
            from crmml.segmentation import CustomerClusterer

            model = CustomerClusterer(random_state=0, verbose=not args.quiet).fit(rfm)
        else:
            model = RFMSegmenter().fit(rfm)
    return model, f"{len(rfm):,} customers as of {as_of.date()}"


def _score_segments(model, tx, as_of, args):
    from crmml.segmentation import rfm_table

    return model.transform(rfm_table(tx, as_of))


def _train_clv(args):
    from crmml.clv import CLVModel

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    with step(args.say, "fitting CLVModel (purchase and spend models)"):
        model = CLVModel(horizon_days=args.horizon_days).fit(tx, as_of)
    return model, f"{tx['customer_id'].nunique():,} customers as of {as_of.date()}"


def _score_clv(model, tx, as_of, args):
    return model.predict(tx, as_of=as_of)


def _train_leads(args):
    from crmml.scoring import LeadScorer

    leads = read_leads(args, require_label=True)
    unknown = [c for c in args.exclude if c not in leads.columns]
    if unknown:
        raise UserError(f"--exclude {','.join(unknown)}: no such column in {args.input} (after --map); its "
                        f"columns are {', '.join(map(str, leads.columns))}")
    with step(args.say, f"fitting LeadScorer on {len(leads):,} leads (validated, then calibrated)"):
        model = LeadScorer(exclude=args.exclude or None, random_state=0, verbose=not args.quiet).fit(leads)
    return model, f"{len(leads):,} leads, model {model.model_kind_}, validation {model.validation_.split(':')[0]}"


def _score_leads(model, leads, as_of, args):
    out = model.score_leads(leads)
    if args.reasons:
        why = model.explain(leads, top_n=3)
        out = out.join(why[[c for c in why.columns if c not in out.columns]])
    return out


def _train_nbo(args):
    from crmml.recommend import NextBestOffer

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    with step(args.say, "fitting NextBestOffer (item similarities, popularity, affinities)"):
        model = NextBestOffer().fit(tx, as_of=as_of)
    return model, f"{tx['customer_id'].nunique():,} customers as of {as_of.date()}"


def _customer_ids(args):
    """The ids file's ``customer_id`` column, each id once, and the summary line's note counting the repeats."""
    from crmml.schema import normalize_ids

    def ids(df):
        return pd.DataFrame({"customer_id": normalize_ids(df["customer_id"], frame=Path(args.input).name)})

    df = read_input(args, "ids", ids)
    n = int(df["customer_id"].duplicated().sum())
    note = f" ({n:,} repeated customer_id row{'s' if n != 1 else ''}: each id answered once)" if n else ""
    return df.drop_duplicates(), note


def _score_nbo(model, ids, as_of, args):
    return model.recommend(ids["customer_id"].to_numpy(), k=args.k)


def _train_churn(args):
    from crmml.churn import ChurnModel, make_churn_snapshot

    tx = read_transactions(args)
    as_of = as_of_arg(args.as_of, tx)
    cutoff = as_of - pd.Timedelta(days=args.churn_horizon_days)   # labels need the horizon after the cutoff
    with step(args.say, f"building churn features and labels at {cutoff.date()}"):
        X, y = make_churn_snapshot(tx, cutoff, args.churn_horizon_days)
    if len(y) == 0 or y.nunique() < 2:
        raise UserError(f"no churn labels can be built at {cutoff.date()} (horizon {args.churn_horizon_days} "
                        "days): the data needs customers active before it and both outcomes after it.")
    with step(args.say, f"fitting ChurnModel on {len(y):,} customers"):
        model = ChurnModel(random_state=0, verbose=not args.quiet).fit(X, y.to_numpy())
    return model, (f"{len(y):,} at-risk customers at {cutoff.date()} (churn rate {y.mean():.1%}, "
                   f"horizon {args.churn_horizon_days} days)")


def _score_churn(model, tx, as_of, args):
    from crmml.features import build_features
    from crmml.features._registry import model_channels, scoring_frame, values_before

    # the trees read float32: features stored as float32 give the same scores with half the memory (the
    # recency-frequency baseline and the printed values of --reasons read float64)
    dtype = "float64" if args.reasons or model._uses_baseline() else "float32"
    # the spelling of the model's channels from the rows before as_of (a later 'Online' must not rename 'online')
    before = values_before(tx, "channel", as_of) if "channel" in tx.columns else ()
    X = build_features(tx, as_of, channels=model_channels(model.feature_names_in_, before), n_jobs=args.n_jobs,
                       dtype=dtype)
    X = scoring_frame(X, model.feature_names_in_, hint="score it from Python or with crmml.spark.score, which "
                      "take customers= and events=")
    if args.reasons:
        return model.explain(X, top_n=3)
    return model.predict_risk(X).to_frame()


#: kinds whose score can add per-row reasons, and the part size (keys) that gives --reasons its progress lines
_REASONS = ("churn", "leads", "rule_leads")
_REASONS_PART = 20_000

#: kind -> (class name, train function, score function, what score reads, partition key)
TASKS = {
    "segments": ("RFMSegmenter", _train_segments, _score_segments, "transactions", "customer_id"),
    "clusters": ("CustomerClusterer", None, _score_segments, "transactions", "customer_id"),
    "clv": ("CLVModel", _train_clv, _score_clv, "transactions", "customer_id"),
    "leads": ("LeadScorer", _train_leads, _score_leads, "leads", "lead_id"),
    "rule_leads": ("RuleLeadScorer", None, _score_leads, "leads", "lead_id"),
    "nbo": ("NextBestOffer", _train_nbo, _score_nbo, "ids", "customer_id"),
    "churn": ("ChurnModel", _train_churn, _score_churn, "transactions", "customer_id"),
    **DECISION_TASKS,                              # survival, uplift, retention (crmml._cli_decisions)
}


def _model_format(target: Path) -> str:
    """``save``'s ``format="auto"`` rule, decided on the target (the temporary name differs)."""
    if target.is_dir():
        if any(target.iterdir()) and not (target / "metadata.json").is_file():
            raise UserError(f"--model {target}: the folder holds files that are not a crmml model; "
                            "use an empty or new folder, or a .zip file.")
        return "dir"
    return "dir" if target.suffix == "" else "zip"


def _cmd_train(args, say):
    from crmml._atomic import atomic_path
    from crmml.persistence import save

    t0 = time.perf_counter()
    target = Path(args.model)
    fmt = _model_format(target)
    distinct_paths(input=args.input, model=args.model, bad_rows=args.bad_rows)
    args.exclude = [c.strip() for spec in args.exclude for c in spec.split(",") if c.strip()]
    if args.exclude and args.kind != "leads":
        raise UserError(f"--exclude works with 'train leads' only (got 'train {args.kind}')")
    model, what = TASKS[args.kind][1](args)        # with progress bars on stderr unless --quiet
    if model.get_params().get("verbose"):
        model.set_params(verbose=False)            # the bars were this run's: the saved file is the same with --quiet
    with atomic_path(target) as tmp:
        save(model, tmp, format=fmt, key=model_key(args.key))
        args.rejected.write()
        raise_if_interrupted()                     # a signal swallowed in a finaliser still stops the rename
    signed = " (signed)" if model_key(args.key) else ""
    say(f"trained {type(model).__name__} on {what} in {time.perf_counter() - t0:.1f} s -> {target}{signed}"
        f"{args.rejected.summary()}")
    return 0


def _threads(n_jobs) -> int:
    """``--n-jobs``: None means every core; anything below 1 is a :class:`UserError`."""
    if n_jobs is None:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise UserError(f"--n-jobs must be a positive number of threads; got {n_jobs}.")
    return n_jobs


def _has_history(part: pd.DataFrame, as_of: pd.Timestamp) -> bool:
    return bool((part["timestamp"].to_numpy() < as_of.to_datetime64()).any())


def _read_ahead(args) -> tuple:
    """``(started, on_verified)``: ``on_verified`` (given to the model loader, called with the file's verified
    metadata before the model's libraries import, 1-2 s) starts reading ``--input`` when the class's score
    reads transactions; ``started["reader"]`` is then the :class:`ReadAhead`."""
    started = {}

    def on_verified(meta):
        cls = str(meta.get("class")).rsplit(".", 1)[-1]
        if any(c == cls and reads == "transactions" for c, _, _, reads, _ in TASKS.values()):
            started["reader"] = ReadAhead(read_transactions, args)

    return started, on_verified


def _cmd_score(args, say):
    if getattr(args, "engine", "pandas") == "spark":
        from crmml.spark._cli import score_command

        if args.bad_rows or args.sep or args.encoding:
            raise UserError("--bad-rows, --sep and --encoding work with the pandas engine; --engine spark reads "
                            "parquet datasets and validates them as a whole.")

        return score_command(args, say)
    from crmml._atomic import atomic_path

    t0 = time.perf_counter()
    _kind_of(Path(args.output))                   # refuse an unknown output suffix before any work
    distinct_paths(input=args.input, model=args.model, output=args.output, bad_rows=args.bad_rows)
    ahead, on_verified = _read_ahead(args)
    model = load_model(args.model, model_key(args.key), on_verified=on_verified)
    name = type(model).__name__
    for kind, (cls, _, score, reads, key) in TASKS.items():
        if cls == name:
            break
    else:
        raise UserError(f"{args.model}: a {name} cannot be used by 'crmml score'.")
    if args.batch is not None and args.batch < 1:
        raise UserError(f"--batch must be a positive number of customers; got {args.batch}.")
    args.n_jobs = _threads(args.n_jobs)
    if "n_jobs" in model.get_params():
        model.set_params(n_jobs=args.n_jobs)       # a batch job uses the machine; scores are the same
    if args.reasons and kind not in _REASONS:
        raise UserError(f"--reasons: a {name} gives no per-row reasons (they exist for churn and lead models); "
                        "drop --reasons.")
    note = ""
    if reads == "transactions":
        frame = ahead["reader"].result() if "reader" in ahead else read_transactions(args)
        as_of = as_of_arg(args.as_of, frame)          # from the whole file, so every part uses the same cut-off
    elif reads == "leads":
        frame, as_of = read_leads(args), None
    elif reads == "features":
        frame, as_of = read_features(args), None
    else:
        (frame, note), as_of = _customer_ids(args), None
    batch = args.batch or (_REASONS_PART if args.reasons else None)   # parts give --reasons its progress
    n_keys = frame[key].nunique()
    say(f"scoring {n_keys:,} {key}s with {name}{' (with reasons)' if args.reasons else ''} ...")
    with atomic_path(args.output) as tmp:
        sink = TableSink(tmp)
        try:
            done = said = 0
            for part in partitions(frame, key, batch):
                done += part[key].nunique() if batch and batch < n_keys else n_keys
                if reads == "transactions" and not _has_history(part, as_of):
                    continue                       # customers with no history before as_of: nothing to score
                sink.write(score(model, part, as_of, args))
                if batch and done < n_keys and (10 * done) // n_keys > (10 * said) // n_keys:
                    said = done                    # at most one line per tenth of the input
                    say(f"scored {done:,} of {n_keys:,} {key}s ({done / n_keys:.0%}) ...")
                raise_if_interrupted()
        finally:
            sink.close()
        if sink.n == 0:
            raise UserError(f"nothing was scored ({name} returned no rows for {args.input}); no output written.")
        args.rejected.write()
        raise_if_interrupted()
    dt = time.perf_counter() - t0
    say(f"scored {sink.n:,} rows with {name} in {dt:.1f} s -> {args.output}{args.rejected.summary()}{note}")
    return 0


def _cmd_report(args, say):
    from crmml.evaluation import classification_report, summarize_data

    distinct_paths(input=args.input, reference=args.reference, output=args.output)
    df = read_table(args.input, parse_mapping(args.map), sep=parse_sep(args.sep), encoding=args.encoding)
    for col, flag in ((args.label, "--label"), (args.score, "--score")):
        if col not in df.columns:
            raise UserError(f"{flag} {col!r}: {Path(args.input).name} has no such column "
                            f"(its columns: {list(df.columns)[:12]}).")
    baseline = check_probability(df, args.baseline, "--baseline", Path(args.input).name) if args.baseline else None
    y = pd.to_numeric(df[args.label], errors="coerce")
    if y.isna().any() or not y.isin([0, 1]).all():
        raise UserError(f"--label {args.label!r} must hold only 0 and 1.")
    p = pd.Series(check_probability(df, args.score, "--score", Path(args.input).name))
    key = "customer_id" if "customer_id" in df.columns else ("lead_id" if "lead_id" in df.columns else None)
    summary = summarize_data(df, key=key or "customer_id", time=None, label=args.label)
    sections = []
    if args.reference:
        from crmml.evaluation import plot_drift, psi_table

        ref = read_table(args.reference, parse_mapping(args.map), sep=parse_sep(args.sep), encoding=args.encoding)
        skip = {args.label, "customer_id", "lead_id"}
        cols = [args.score] + [c for c in df.columns if c in ref.columns and c not in skip and c != args.score]
        if args.score not in ref.columns:
            raise UserError(f"--reference: {Path(args.reference).name} has no {args.score!r} column to compare.")
        psi = psi_table(ref, df, cols)
        sections.append((f"Population stability against {Path(args.reference).name}",
                         [("PSI by column", psi), ("Distributions: reference and current",
                                                   plot_drift(ref, df, list(psi.index), psi=psi))]))
    from crmml._atomic import atomic_path

    with atomic_path(args.output) as tmp:
        classification_report(tmp, y.to_numpy(), p.to_numpy(), title=args.title,
                              baseline_prob=baseline,
                              baseline_name=args.baseline or "baseline", data_summary=summary,
                              extra_sections=sections)
        raise_if_interrupted()
    say(f"report -> {args.output}")
    return 0


def _cmd_demo(args, say):
    from crmml._demo import run_demo

    run_demo(args.out, quick=args.quick, say=say, verbose=not args.quiet)
    return 0


# --------------------------------------------------------------------------------------------------- parser
def _option_groups():
    """Global options (accepted before or after the subcommand) and the options of commands that read files."""
    glob = argparse.ArgumentParser(add_help=False)
    glob.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                      help="show tracebacks instead of one-line errors")
    glob.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress output")
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument("--sep", default=None, help="CSV field separator, e.g. ';' or tab (default ',')")
    files.add_argument("--encoding", default=None, help="CSV text encoding, e.g. latin-1 (default UTF-8)")
    bad = argparse.ArgumentParser(add_help=False)
    bad.add_argument("--bad-rows", dest="bad_rows", default=None, metavar="FILE",
                     help="set rows that do not fit the schema aside: use the valid rows and write the rejected "
                          "ones to FILE (.csv or .parquet) with their line and reason; counted in the summary")
    return glob, files, bad


def _parser() -> argparse.ArgumentParser:
    from crmml import __version__

    glob, files, bad = _option_groups()
    p = argparse.ArgumentParser(prog="crmml", description="crmml: the analytical ML layer of a CRM.", parents=[glob])
    p.add_argument("--version", action="version", version=f"crmml {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{demo,train,score,report,prioritise}")

    d = sub.add_parser("demo", parents=[glob], help="run the whole pipeline on the real data shipped with crmml")
    d.add_argument("--out", required=True, help="output folder for reports, scores and models")
    d.add_argument("--quick", action="store_true", help="smaller models and fewer backtest cutoffs (for tests)")

    mapping_help = "column mapping THEIRS=canonical (repeatable or comma-separated), e.g. CustomerID=customer_id"
    t = sub.add_parser("train", parents=[glob, files, bad], help="fit a model and save it (no pickle)")
    t.add_argument("kind", choices=sorted(k for k, v in TASKS.items() if v[1] is not None))
    t.add_argument("--input", required=True, help="transactions (leads for 'leads') as .csv or .parquet")
    t.add_argument("--model", required=True, help="where to save the model (.zip file or folder)")
    t.add_argument("--map", action="append", default=[], help=mapping_help)
    t.add_argument("--as-of", dest="as_of", help="cut-off date; default: the day after the last transaction")
    t.add_argument("--method", choices=["rfm", "clusters"], default="rfm",
                   help="segments: named RFM segments (default) or behaviour clusters on the RFM table")
    t.add_argument("--horizon-days", dest="horizon_days", type=int, default=365, help="CLV horizon (days)")
    t.add_argument("--churn-horizon-days", dest="churn_horizon_days", type=int, default=45,
                   help="churn: no purchase within this many days after the cutoff = churned")
    t.add_argument("--key", default=None,
                   help=f"sign the model with this secret (HMAC-SHA256); default: ${KEY_ENV} if set")
    t.add_argument("--exclude", action="append", default=[], metavar="COL,...",
                   help="leads: columns never used as features, e.g. ones recorded after the outcome "
                        "(repeatable or comma-separated)")

    s = sub.add_parser("score", parents=[glob, files, bad], help="score a file with a saved model")
    s.add_argument("--model", required=True, help="a model saved by 'crmml train' or crmml.persistence.save")
    s.add_argument("--input", required=True, help=".csv or .parquet (nbo: a customer_id column; an id given twice "
                   "is answered once, and the summary line counts the repeats)")
    s.add_argument("--output", required=True, help=".csv or .parquet")
    s.add_argument("--map", action="append", default=[], help=mapping_help)
    s.add_argument("--as-of", dest="as_of", help="cut-off date; default: the day after the last transaction")
    s.add_argument("--k", type=int, default=5, help="offers per customer (nbo)")
    s.add_argument("--batch", type=int, default=None, metavar="N",
                   help="score N customers (leads) at a time: bounded memory, same result (partitioned by customer)")
    s.add_argument("--n-jobs", dest="n_jobs", type=int, default=None, metavar="N",
                   help="threads for features and the model (default: every core; scores do not depend on it)")
    s.add_argument("--reasons", action="store_true",
                   help="churn and leads: add each row's top drivers (SHAP / contributions, log-odds)")
    s.add_argument("--key", default=None,
                   help=f"refuse the model unless it is signed with this secret; default: ${KEY_ENV} if set")
    s.add_argument("--engine", choices=["pandas", "spark"], default="pandas",
                   help="spark: --input and --output are parquet datasets (folders or globs), scored on Spark")
    s.add_argument("--master", default=None, help="Spark master URL (default: spark-submit's, else local[*])")
    add_score_options(s)

    r = sub.add_parser("report", parents=[glob, files], help="HTML report of a score against outcomes")
    r.add_argument("--input", required=True, help=".csv or .parquet with a 0/1 label and a score column")
    r.add_argument("--label", required=True)
    r.add_argument("--score", required=True)
    r.add_argument("--baseline", help="column of a baseline probability (values in [0, 1]), shown beside the model")
    r.add_argument("--reference", help="an earlier scored file: PSI of the score and shared columns against it")
    r.add_argument("--title", default="Model report")
    r.add_argument("--output", required=True, help="the .html file")
    r.add_argument("--map", action="append", default=[], help=mapping_help)
    add_decision_parsers(sub, mapping_help)
    return p


_COMMANDS = {"demo": _cmd_demo, "train": _cmd_train, "score": _cmd_score, "report": _cmd_report,
             "prioritise": cmd_prioritise}


def main(argv=None) -> int:
    """Entry point of the ``crmml`` console script; returns the exit status.

    >>> main(["--quiet", "score", "--model", "missing.zip", "--input", "x.csv", "--output", "y.csv"])
    2
    """
    args = _parser().parse_args(argv)
    args.debug, args.quiet = getattr(args, "debug", False), getattr(args, "quiet", False)

    def say(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    args.say = say
    return run_guarded(lambda: _COMMANDS[args.command](args, say), debug=args.debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
