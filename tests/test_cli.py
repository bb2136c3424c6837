"""The crmml command: train/score/report round trips, one-line errors, and the demo."""

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

from crmml.cli import UserError, main, parse_mapping, read_table


@pytest.fixture(scope="module")
def their_tx(tmp_path_factory):
    """Transactions in a user's own column names (online-retail-like), as CSV."""
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=300, seed=3, with_events=False)
    tx = crm.transactions.rename(columns={"customer_id": "CustomerID", "timestamp": "InvoiceDate",
                                          "amount": "Total"})
    path = tmp_path_factory.mktemp("cli") / "tx.csv"
    tx[["CustomerID", "InvoiceDate", "Total", "transaction_id"]].to_csv(path, index=False)
    return path, crm


MAP = ["CustomerID=customer_id,InvoiceDate=timestamp", "--map", "Total=amount"]


def _err_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all("Traceback" not in line for line in err)
    return err[-1]


def test_train_and_score_segments_round_trip(tmp_path, their_tx, capsys):
    path, crm = their_tx
    model = tmp_path / "rfm.zip"
    assert main(["train", "segments", "--input", str(path), "--model", str(model), "--map", *MAP,
                 "--as-of", "2024-06-01"]) == 0
    out = tmp_path / "segments.parquet"
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(out), "--map", *MAP,
                 "--as-of", "2024-06-01"]) == 0
    got = pd.read_parquet(out).set_index("customer_id")
    from crmml.segmentation import RFMSegmenter, rfm_table

    tx = crm.transactions
    rfm = rfm_table(tx, "2024-06-01")
    expected = RFMSegmenter().fit(rfm).transform(rfm)
    assert got["segment"].astype(str).tolist() == expected["segment"].astype(str).tolist()
    assert "scored" in capsys.readouterr().err


def test_train_and_score_clv_csv(tmp_path, their_tx):
    path, crm = their_tx
    model = tmp_path / "clv_model"                     # a folder
    assert main(["--quiet", "train", "clv", "--input", str(path), "--model", str(model), "--map", *MAP,
                 "--horizon-days", "180"]) == 0
    assert (model / "metadata.json").exists()
    out = tmp_path / "clv.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(out),
                 "--map", *MAP]) == 0
    scored = pd.read_csv(out)
    assert {"customer_id", "p_alive", "clv"} <= set(scored.columns)
    assert scored["customer_id"].nunique() == len(scored) > 250


def test_report_command(tmp_path, seed, capsys):
    rng = np.random.default_rng(seed)
    p = rng.random(400)
    df = pd.DataFrame({"customer_id": np.arange(400), "prob": p, "naive": rng.random(400),
                       "churned": (rng.random(400) < p).astype(int)})
    df.to_csv(tmp_path / "scored.csv", index=False)
    out = tmp_path / "r.html"
    assert main(["report", "--input", str(tmp_path / "scored.csv"), "--label", "churned", "--score", "prob",
                 "--baseline", "naive", "--output", str(out), "--title", "Churn check"]) == 0
    df.assign(prob=np.clip(p + 0.3, 0, 1)).to_csv(tmp_path / "earlier.csv", index=False)
    assert main(["report", "--input", str(tmp_path / "scored.csv"), "--label", "churned", "--score", "prob",
                 "--baseline", "naive", "--output", str(out), "--title", "Churn check",
                 "--reference", str(tmp_path / "earlier.csv")]) == 0
    text = out.read_text()
    assert "Churn check" in text and "naive" in text and text.count("data:image/png;base64,") == 6
    assert "Population stability against earlier.csv" in text and "major shift" in text
    assert "Distributions: reference and current" in text   # the drift plots beside the PSI table
    assert main(["report", "--input", str(tmp_path / "scored.csv"), "--label", "nope", "--score", "prob",
                 "--output", str(out)]) == 2
    assert _err_line(capsys).startswith("crmml: error: --label 'nope': scored.csv has no such column")


@pytest.mark.parametrize("argv, message", [
    (["score", "--model", "{tmp}/missing.zip", "--input", "{tx}", "--output", "{tmp}/o.csv"],
     r"crmml: error: No saved model at '.*missing.zip'"),
    (["train", "segments", "--input", "{tmp}/nope.csv", "--model", "{tmp}/m.zip"],
     r"crmml: error: .*nope.csv: no such file"),
    (["train", "segments", "--input", "{tx}", "--model", "{tmp}/m.zip", "--map", "Nope=customer_id"],
     r"crmml: error: --map names column\(s\) \['Nope'\] that tx.csv does not have"),
    (["train", "segments", "--input", "{tx}", "--model", "{tmp}/m.zip", "--map", "CustomerID"],
     r"crmml: error: --map 'CustomerID': expected THEIR_COLUMN=canonical_column"),
    (["train", "segments", "--input", "{tx}", "--model", "{tmp}/m.zip"],
     r"crmml: error: tx.csv: the required columns \['customer_id', 'timestamp', 'amount'\] are missing "
     r".*map yours with --map CustomerID=customer_id"),               # unmapped columns: a --map hint
    (["train", "segments", "--input", "{tmp}/data.xlsx", "--model", "{tmp}/m.zip"],
     r"crmml: error: .*data.xlsx: unsupported file type"),
    (["train", "segments", "--input", "{tx}", "--model", "{tmp}/m.zip", "--map", *MAP, "--as-of", "soon"],
     r"crmml: error: --as-of 'soon' is not a date"),
])
def test_user_mistakes_give_one_line_and_exit_2(tmp_path, their_tx, capsys, argv, message):
    (tmp_path / "data.xlsx").write_text("x")
    argv = [a.format(tmp=tmp_path, tx=their_tx[0]) for a in argv]
    assert main(argv) == 2
    assert re.match(message, _err_line(capsys))


def test_bad_model_file_and_unreadable_input(tmp_path, their_tx, capsys):
    (tmp_path / "m.zip").write_text("not a zip")
    assert main(["score", "--model", str(tmp_path / "m.zip"), "--input", str(their_tx[0]), "--output",
                 str(tmp_path / "o.csv")]) == 2
    assert "is not a crmml model file" in _err_line(capsys)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(UserError, match="bad.parquet: cannot read it as parquet"):
        read_table(tmp_path / "bad.parquet")


def test_parse_mapping():
    assert parse_mapping(["a=b", "c = d,e=f"]) == {"a": "b", "c": "d", "e": "f"}
    with pytest.raises(UserError, match="--map '=x': expected THEIR_COLUMN=canonical_column"):
        parse_mapping(["=x"])


def test_argparse_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "unknown-kind", "--input", "x", "--model", "y"])
    assert exc.value.code == 2


# -------------------------------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo_out"
    assert main(["--quiet", "demo", "--out", str(out), "--quick"]) == 0
    return out


def _images(text):
    from PIL import Image

    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    for b64 in imgs:
        Image.open(io.BytesIO(base64.b64decode(b64))).load()
    return len(imgs)


def test_a_demo_step_whose_module_is_missing_is_skipped_and_the_others_run(tmp_path, monkeypatch, capsys):
    """README: "A step whose module is missing is reported as skipped and the others still run" (the real clv
    step with crmml.clv unimportable, between two cheap steps so the cost stays small)."""
    import sys

    import crmml._demo as demo

    def cheap(ctx):
        page = ctx.out / f"cheap{len(ctx.results)}.html"
        page.write_text("<html>ok</html>")
        return {"report": page, "headline": "ran"}

    monkeypatch.setitem(sys.modules, "crmml.clv", None)             # import crmml.clv -> ImportError
    monkeypatch.setattr(demo, "STEPS", [("first", cheap), ("clv", demo._step_clv), ("last", cheap)])
    out = tmp_path / "demo_out"
    assert main(["demo", "--out", str(out), "--quick"]) == 0
    assert "clv: skipped" in capsys.readouterr().err
    rows = re.findall(r"<tr><td>(\w+)</td><td>(\w+)</td><td>(.*?)</td>", (out / "index.html").read_text())
    assert [(step, status) for step, status, _ in rows] == [("first", "ok"), ("clv", "skipped"), ("last", "ok")]
    assert "cheap2.html" in rows[2][2] and (out / "cheap2.html").exists()


@pytest.mark.slow
def test_demo_writes_reports_scores_and_models(demo_out):
    from crmml.persistence import load

    index = (demo_out / "index.html").read_text()
    expected = {"segments.html": ["customers", "Segment summary", "Segment migration", "monetary median",
                                  "z (log scale)"],
                "clv.html": ["predicted_total_value", "actual_total_value", "Predicted vs actual",
                             "Tracking: cumulative repeat purchases", "lower_95"],
                "leads.html": ["roc_auc", "pr_auc", "ks", "brier", "ece", "previous-outcome rate", "Top drivers",
                               "Decile table", "top_positive", "fit_score"],
                "next_best_offer.html": ["precision", "ndcg", "past purchases"]}
    for name, needles in expected.items():
        assert name in index
        text = (demo_out / name).read_text()
        for needle in needles:
            assert needle in text, (name, needle)
        assert _images(text) >= 1, name
    # 5 standard plots, SHAP and the fit/engagement sub-scores; the decile table is a table only
    assert _images((demo_out / "leads.html").read_text()) == 7
    leads = pd.read_csv(demo_out / "scores" / "leads.csv")
    assert leads["probability"].between(0, 1).all() and len(leads) == 41188 - int(41188 * 0.75)
    segments = pd.read_csv(demo_out / "scores" / "segments.csv")
    assert segments["customer_id"].is_unique and segments["segment"].notna().all()
    for model in ("rfm_segmenter", "clv", "lead_scorer", "next_best_offer"):
        assert type(load(demo_out / "models" / f"{model}.zip")).__name__ != ""


@pytest.mark.slow
def test_demo_churn_report_has_backtest(demo_out):
    pytest.importorskip("crmml.churn")
    from crmml import churn

    if not hasattr(churn, "backtest"):
        pytest.skip("crmml.churn.backtest is not available")
    text = (demo_out / "churn.html").read_text()
    for needle in ("Backtest per cutoff", "recency-frequency baseline", "roc_auc", "log-odds",
                   "Population stability (PSI)"):
        assert needle in text, needle
    assert "Top drivers" in text or "Global importance" in text
    assert _images(text) >= 6
    scores = pd.read_csv(demo_out / "scores" / "churn.csv")
    assert scores["churn_probability"].between(0, 1).all()


def test_train_and_score_churn(tmp_path, their_tx):
    churn = pytest.importorskip("crmml.churn")
    if not hasattr(churn, "ChurnModel"):
        pytest.skip("crmml.churn.ChurnModel is not available")
    path, crm = their_tx
    model = tmp_path / "churn.zip"
    assert main(["--quiet", "train", "churn", "--input", str(path), "--model", str(model), "--map", *MAP,
                 "--as-of", "2024-06-01", "--churn-horizon-days", "60"]) == 0
    out = tmp_path / "churn.parquet"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(out),
                 "--map", *MAP, "--as-of", "2024-06-01"]) == 0
    scored = pd.read_parquet(out)
    assert scored["churn_probability"].between(0, 1).all() and scored["customer_id"].is_unique
    why = tmp_path / "churn_reasons.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(why),
                 "--map", *MAP, "--as-of", "2024-06-01", "--reasons"]) == 0
    reasons = pd.read_csv(why)
    assert {"driver_1", "contribution_1"} <= set(reasons.columns)
    assert np.allclose(reasons["churn_probability"], scored["churn_probability"])
    batched = tmp_path / "churn_batched.parquet"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(batched),
                 "--map", *MAP, "--as-of", "2024-06-01", "--batch", "64"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(batched).set_index("customer_id").sort_index(),
                                  scored.set_index("customer_id").sort_index())
    one = tmp_path / "churn_one_thread.parquet"       # the default uses every core: the same scores as one thread
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(one),
                 "--map", *MAP, "--as-of", "2024-06-01", "--n-jobs", "1"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(one), scored)
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(one),
                 "--map", *MAP, "--as-of", "2024-06-01", "--n-jobs", "0"]) == 2


def test_a_churn_model_with_channel_features_refuses_input_without_the_channel_column(tmp_path, their_tx, capsys):
    """Audit: a model trained with channel features, scored on transactions without the channel column, ended in
    an internal RuntimeError; now one line naming transactions.channel, exit 2."""
    path, crm = their_tx
    with_channel = tmp_path / "tx_channel.csv"
    pd.read_csv(path).assign(channel=crm.transactions["channel"].to_numpy()).to_csv(with_channel, index=False)
    model = tmp_path / "churn.zip"
    assert main(["--quiet", "train", "churn", "--input", str(with_channel), "--model", str(model), "--map", *MAP,
                 "--as-of", "2024-06-01", "--churn-horizon-days", "60"]) == 0
    capsys.readouterr()
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output",
                 str(tmp_path / "s.csv"), "--map", *MAP, "--as-of", "2024-06-01"]) == 2
    assert "transactions.channel: the column is missing" in _err_line(capsys)
    assert not (tmp_path / "s.csv").exists()


def test_a_churn_model_with_attribute_features_is_not_scored_without_them(tmp_path, their_tx, capsys):
    """Audit: crmml score filled the features it could not build from transactions (customer attributes, event
    features) with missing values and scored every customer anyway (exit 0, other probabilities than the Python
    API's); now one line naming the features, exit 2, nothing written."""
    from crmml.churn import ChurnModel, make_churn_snapshot
    from crmml.persistence import save

    path, crm = their_tx
    tx = crm.transactions[["customer_id", "timestamp", "amount", "transaction_id"]]
    X, y = make_churn_snapshot(tx, pd.Timestamp("2024-04-01"), 60, customers=crm.customers)
    model = save(ChurnModel(n_estimators=30, random_state=0).fit(X, y.to_numpy()), tmp_path / "churn_attr.zip")
    capsys.readouterr()
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output",
                 str(tmp_path / "s.csv"), "--map", *MAP, "--as-of", "2024-06-01"]) == 2
    line = _err_line(capsys)
    assert "reads 4 feature(s) these frames do not give" in line and "attr_" in line   # 3 attributes, tenure
    assert "score it from Python or with crmml.spark.score" in line
    assert not (tmp_path / "s.csv").exists()


def test_train_and_score_clusters(tmp_path, their_tx):
    path, crm = their_tx
    model = tmp_path / "clusters.zip"
    assert main(["--quiet", "train", "segments", "--method", "clusters", "--input", str(path), "--model",
                 str(model), "--map", *MAP, "--as-of", "2024-06-01"]) == 0
    out = tmp_path / "clusters.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(out),
                 "--map", *MAP, "--as-of", "2024-06-01"]) == 0
    scored = pd.read_csv(out)
    assert {"customer_id", "cluster", "segment"} <= set(scored.columns) and scored["cluster"].nunique() >= 2


def test_train_and_score_leads_with_reasons(tmp_path, their_tx):
    crm = their_tx[1]
    leads = tmp_path / "leads.csv"
    crm.leads.rename(columns={"lead_id": "LeadID"}).to_csv(leads, index=False)
    model = tmp_path / "leads.zip"
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model),
                 "--map", "LeadID=lead_id"]) == 0
    out = tmp_path / "scored.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(leads), "--output", str(out),
                 "--map", "LeadID=lead_id", "--reasons"]) == 0
    scored = pd.read_csv(out)
    assert {"lead_id", "probability", "grade", "top_positive"} <= set(scored.columns)
    assert len(scored) == len(crm.leads)


def test_train_leads_excludes_a_leaking_column_and_names_the_leak(tmp_path, their_tx, capsys):
    from crmml.persistence import load

    crm = their_tx[1]
    leads = tmp_path / "leads.csv"
    crm.leads.assign(call_seconds=np.where(crm.leads["converted"] == 1, 300.0, 60.0)).to_csv(leads, index=False)
    model = tmp_path / "leads.zip"
    capsys.readouterr()
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model)]) == 0
    assert "crmml: warning: LeadScorer.fit: the column 'call_seconds' alone separates" in capsys.readouterr().err
    assert "call_seconds" in load(model).attributes_
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model),
                 "--exclude", "call_seconds"]) == 0
    assert "call_seconds" not in load(model).attributes_
    capsys.readouterr()
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model),
                 "--exclude", "call_secs,source"]) == 2
    assert "--exclude call_secs: no such column" in capsys.readouterr().err
    assert main(["--quiet", "train", "clv", "--input", str(their_tx[0]), "--model", str(model), "--map", *MAP,
                 "--exclude", "x"]) == 2
    assert "--exclude works with 'train leads' only" in capsys.readouterr().err


def test_train_leads_names_the_columns_that_are_no_feature(tmp_path, their_tx, capsys):
    """A date column of a parquet leads file is no feature: one warning line names it (before: left out silently)."""
    from crmml.persistence import load

    crm = their_tx[1]
    leads = tmp_path / "leads.parquet"
    crm.leads.assign(last_contact_date=crm.leads["created_at"] - pd.Timedelta(days=3)).to_parquet(leads)
    model = tmp_path / "leads.zip"
    capsys.readouterr()
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model)]) == 0
    err = capsys.readouterr().err
    assert "crmml: warning: LeadScorer.fit: 1 column of the leads is not a feature" in err
    assert "'last_contact_date' (datetime64[" in err
    assert "last_contact_date" not in load(model).attributes_
    assert main(["--quiet", "train", "leads", "--input", str(leads), "--model", str(model),
                 "--exclude", "last_contact_date"]) == 0
    assert "not a feature" not in capsys.readouterr().err


def test_score_nbo_counts_the_repeated_ids_it_answers_once(tmp_path, their_tx, capsys):
    """An id given twice in an nbo ids file is answered once; before, the repeats vanished without a count."""
    crm = their_tx[1]
    tx = tmp_path / "tx.csv"
    crm.transactions[["customer_id", "timestamp", "amount", "product_id"]].to_csv(tx, index=False)
    model = tmp_path / "nbo.zip"
    assert main(["--quiet", "train", "nbo", "--input", str(tx), "--model", str(model)]) == 0
    known = crm.transactions["customer_id"].drop_duplicates().head(4).tolist()
    ids = tmp_path / "ids.csv"
    pd.DataFrame({"customer_id": known + known[:2] + known[:1]}).to_csv(ids, index=False)   # 3 repeated rows
    out = tmp_path / "offers.csv"
    capsys.readouterr()
    assert main(["score", "--model", str(model), "--input", str(ids), "--output", str(out), "--k", "2"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"scored 8 rows with NextBestOffer in [\d.]+ s -> \S+offers\.csv \(3 repeated customer_id "
                     r"rows: each id answered once\)", err), err
    assert pd.read_csv(out).groupby("customer_id").size().to_dict() == dict.fromkeys(known, 2)
    pd.DataFrame({"customer_id": known}).to_csv(ids, index=False)
    assert main(["score", "--model", str(model), "--input", str(ids), "--output", str(out), "--k", "2"]) == 0
    assert "repeated" not in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    assert "an id given twice is answered once" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("kind, fmt", [("segments", "parquet"), ("clv", "csv")])
def test_batched_scoring_equals_one_pass(tmp_path, their_tx, kind, fmt):
    """Partitioned by customer: scoring 37 customers at a time gives exactly the one-pass result."""
    path, _ = their_tx
    model = tmp_path / f"{kind}.zip"
    assert main(["--quiet", "train", kind, "--input", str(path), "--model", str(model), "--map", *MAP,
                 "--as-of", "2024-06-01"]) == 0
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    outs = []
    for extra in ([], ["--batch", "37"]):
        out = tmp_path / f"{kind}{len(extra)}.{fmt}"
        assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(out),
                     "--map", *MAP, "--as-of", "2024-06-01", *extra]) == 0
        outs.append(read(out).set_index("customer_id").sort_index())
    assert len(outs[0]) > 250
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_batch_must_be_positive(tmp_path, their_tx, capsys):
    path, _ = their_tx
    model = tmp_path / "rfm.zip"
    assert main(["--quiet", "train", "segments", "--input", str(path), "--model", str(model), "--map", *MAP]) == 0
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(tmp_path / "o.csv"),
                 "--map", *MAP, "--batch", "0"]) == 2
    assert _err_line(capsys) == "crmml: error: --batch must be a positive number of customers; got 0."


def test_a_warning_repeated_by_every_batch_prints_once(tmp_path, their_tx, capsys):
    """Three return-only customers, scored one per batch: the counted-drop warning ("1 customers with only
    returns ... left out") comes from each of their batches, and the CLI prints it once."""
    path, _ = their_tx
    tx = pd.read_csv(path)
    returns = pd.DataFrame({"CustomerID": [900001, 900002, 900003], "InvoiceDate": ["2024-03-01"] * 3,
                            "Total": [-5.0, -6.0, -7.0], "transaction_id": ["r1", "r2", "r3"]})
    src = tmp_path / "tx.csv"
    pd.concat([tx, returns]).to_csv(src, index=False)
    model = tmp_path / "rfm.zip"
    assert main(["--quiet", "train", "segments", "--input", str(src), "--model", str(model), "--map", *MAP,
                 "--as-of", "2024-06-01"]) == 0
    capsys.readouterr()
    assert main(["--quiet", "score", "--model", str(model), "--input", str(src), "--output",
                 str(tmp_path / "s.csv"), "--map", *MAP, "--as-of", "2024-06-01", "--batch", "1"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "only returns" in line]
    assert len(lines) == 1 and lines[0].startswith("crmml: warning: rfm_table: 1 customers")


def test_churn_channel_features_are_spelt_from_rows_before_as_of(tmp_path, their_tx, monkeypatch):
    """Point in time: the spelling of a model's channel columns came from every row of the input, so one purchase
    spelt 'Online' after --as-of (the slug of the model's 'online') made every customer's online share 0. Now the
    features (and scores) equal those of the input cut at --as-of."""
    from crmml.churn import ChurnModel

    path, crm = their_tx
    tx = pd.read_csv(path).assign(channel=crm.transactions["channel"].astype(str).to_numpy())
    assert "online" in set(tx["channel"])
    model, as_of = tmp_path / "churn.zip", "2024-06-01"
    tx.to_csv(tmp_path / "train.csv", index=False)
    assert main(["--quiet", "train", "churn", "--input", str(tmp_path / "train.csv"), "--model", str(model),
                 "--map", *MAP, "--as-of", as_of, "--churn-horizon-days", "60"]) == 0
    cut = tx[pd.to_datetime(tx["InvoiceDate"]) < pd.Timestamp(as_of)]
    late = tx.iloc[[0]].assign(InvoiceDate="2024-06-04 10:00:00", channel="Online")
    seen, outs = [], []
    real = ChurnModel.predict_risk
    monkeypatch.setattr(ChurnModel, "predict_risk", lambda self, X: seen.append(X) or real(self, X))
    for name, frame in (("cut", cut), ("late", pd.concat([tx, late]))):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        out = tmp_path / f"{name}.parquet"
        assert main(["--quiet", "score", "--model", str(model), "--input", str(tmp_path / f"{name}.csv"),
                     "--output", str(out), "--map", *MAP, "--as-of", as_of]) == 0
        outs.append(pd.read_parquet(out))
    assert seen[0].filter(like="channel_online_share").gt(0).any().all()
    pd.testing.assert_frame_equal(seen[1], seen[0], check_exact=True)
    pd.testing.assert_frame_equal(outs[1], outs[0], check_exact=True)
