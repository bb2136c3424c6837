"""The crmml command as a backend engineer expects it: --version, global options anywhere, --sep/--encoding,
every schema problem of a file at once (file lines), --bad-rows, --map hints, refusals, progress lines."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crmml import __version__
from crmml.cli import main
from crmml.datasets import shared_data_dir

MAP = ["--map", "CustomerID=customer_id,InvoiceDate=timestamp,Total=amount"]


@pytest.fixture(scope="module")
def tx_file(tmp_path_factory):
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=120, seed=5, with_events=False)
    tx = crm.transactions.rename(columns={"customer_id": "CustomerID", "timestamp": "InvoiceDate",
                                          "amount": "Total"})[["CustomerID", "InvoiceDate", "Total"]]
    folder = tmp_path_factory.mktemp("cli_io")
    tx.to_csv(folder / "tx.csv", index=False)
    model = folder / "rfm.zip"
    assert main(["--quiet", "train", "segments", "--input", str(folder / "tx.csv"), "--model", str(model), *MAP]) == 0
    return folder, tx, model, crm


def _err(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"crmml {__version__}"


def test_global_options_after_the_subcommand(tmp_path, tx_file, capsys):
    folder, _, model, _ = tx_file
    argv = ["score", "--model", str(model), "--input", str(folder / "tx.csv"), "--output", str(tmp_path / "o.csv"),
            *MAP]
    assert main([*argv, "--quiet"]) == 0 and capsys.readouterr().err == ""       # --quiet after: nothing said
    assert main(argv) == 0 and "scored" in capsys.readouterr().err
    with pytest.raises(Exception, match="no such file"):                             # --debug after: traceback
        main(["score", "--model", str(model), "--input", str(tmp_path / "nope.csv"), "--output",
              str(tmp_path / "o.csv"), "--debug"])


def test_sep_and_encoding(tmp_path, tx_file, capsys):
    folder, tx, model, _ = tx_file
    semi = tmp_path / "semi.csv"
    tx.assign(Note="café").to_csv(semi, index=False, sep=";", encoding="latin-1")
    out = tmp_path / "o.csv"
    base = ["score", "--model", str(model), "--input", str(semi), "--output", str(out), *MAP]
    assert main(base) == 2
    assert re.search(r"not readable as UTF-8 .*--encoding latin-1", _err(capsys)[-1])
    assert main([*base, "--encoding", "latin-1"]) == 2
    assert re.search(r"read as one column .*looks ';'-separated; pass --sep ';'", _err(capsys)[-1])
    assert main([*base, "--encoding", "latin-1", "--sep", ";"]) == 0
    want = tmp_path / "want.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(folder / "tx.csv"), "--output",
                 str(want), *MAP]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(want))
    assert not out.with_suffix(".parquet").exists()
    assert main(["score", "--model", str(model), "--input", str(folder / "tx.csv"), "--output", str(out), *MAP,
                 "--sep", "ab"]) == 2 and "give one character" in _err(capsys)[-1]


def _broken(tx: pd.DataFrame) -> pd.DataFrame:
    bad = tx.astype({"CustomerID": "object", "InvoiceDate": "object", "Total": "object"}).copy()
    bad.loc[[1, 8, 9], "CustomerID"] = None
    bad.loc[[3], "InvoiceDate"] = "not a date"
    bad.loc[[4, 8], "Total"] = "12,50"
    bad.loc[[6], "InvoiceDate"] = "9999-12-31"
    return bad


def test_every_schema_problem_of_a_file_at_once_with_file_lines(tmp_path, tx_file, capsys):
    folder, tx, model, _ = tx_file
    path = tmp_path / "broken.csv"
    _broken(tx).to_csv(path, index=False)
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(tmp_path / "o.csv"),
                 *MAP]) == 2
    err = _err(capsys)
    head = next(i for i, line in enumerate(err) if line.startswith("crmml: error:"))
    assert re.search(r"broken.csv: 6 of [\d,]+ rows do not fit the transactions schema .*--bad-rows FILE", err[head])
    details = "\n".join(err[head + 1:])
    # row position + 2 = file line (the header is line 1)
    assert "customer_id: missing id: 3 rows, lines 3, 10, 11" in details
    assert ("timestamp: unparseable timestamp (or outside 1677-09-22 .. 2262-04-11): 2 rows, lines 5, 8; "
            "e.g. 'not a date', '9999-12-31'") in details
    assert "amount: not a number: 2 rows, lines 6, 10; e.g. '12,50'" in details
    assert not (tmp_path / "o.csv").exists()


def test_bad_rows_scores_the_valid_rows_and_writes_the_rejected(tmp_path, tx_file, capsys):
    folder, tx, model, _ = tx_file
    path = tmp_path / "broken.csv"
    broken = _broken(tx)
    broken.to_csv(path, index=False)
    out, bad = tmp_path / "o.csv", tmp_path / "bad.csv"
    assert main(["score", "--model", str(model), "--input", str(path), "--output", str(out), *MAP,
                 "--bad-rows", str(bad)]) == 0
    summary = _err(capsys)[-1]
    assert f"({len(tx):,} input rows: {len(tx) - 6:,} valid, 6 rejected -> {bad})" in summary
    rejected = pd.read_csv(bad)
    assert rejected["crmml_line"].tolist() == [3, 5, 6, 8, 10, 11]
    assert list(rejected.columns[:4]) == ["crmml_line", "CustomerID", "InvoiceDate", "Total"]
    assert rejected.set_index("crmml_line").loc[10, "crmml_reason"] == "customer_id: missing id; amount: not a number"
    # the valid rows are scored exactly as a clean file of those rows
    clean = tmp_path / "clean.csv"
    broken.drop(index=[1, 3, 4, 6, 8, 9]).to_csv(clean, index=False)
    want = tmp_path / "want.csv"
    assert main(["--quiet", "score", "--model", str(model), "--input", str(clean), "--output", str(want), *MAP]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(want))


def test_bad_rows_file_is_written_even_when_nothing_is_rejected(tmp_path, tx_file, capsys):
    folder, tx, model, _ = tx_file
    bad = tmp_path / "bad.parquet"
    assert main(["score", "--model", str(model), "--input", str(folder / "tx.csv"), "--output",
                 str(tmp_path / "o.csv"), *MAP, "--bad-rows", str(bad)]) == 0
    assert f"{len(tx):,} valid, 0 rejected" in _err(capsys)[-1] and len(pd.read_parquet(bad)) == 0


def test_map_hints_are_in_map_syntax(tmp_path, tx_file, capsys):
    folder, _, model, _ = tx_file
    argv = ["train", "segments", "--input", str(folder / "tx.csv"), "--model", str(tmp_path / "m.zip")]
    assert main([*argv, "--map", "CustomerID=customer_idd,InvoiceDate=timestamp,Total=amount"]) == 2
    assert "map yours with --map CustomerID=customer_id (not 'customer_idd')" in _err(capsys)[-1]
    assert main([*argv, "--map", "InvoiceDate=timestamp,Total=amount"]) == 2
    line = _err(capsys)[-1]
    assert "--map CustomerID=customer_id." in line and "columns={" not in line


def test_reasons_refused_for_segments(tmp_path, tx_file, capsys):
    folder, _, model, _ = tx_file
    assert main(["score", "--model", str(model), "--input", str(folder / "tx.csv"), "--output",
                 str(tmp_path / "o.csv"), *MAP, "--reasons"]) == 2
    assert re.search(r"--reasons: a RFMSegmenter gives no per-row reasons .*drop --reasons", _err(capsys)[-1])
    assert not (tmp_path / "o.csv").exists()


def test_report_score_and_baseline_must_be_probabilities(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    df = pd.DataFrame({"y": y, "p": np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, 300), 0, 1),
                       "recency_days": rng.integers(0, 400, 300), "segment": "A"})
    path = tmp_path / "scored.csv"
    df.to_csv(path, index=False)
    base = ["report", "--input", str(path), "--label", "y", "--score", "p", "--output", str(tmp_path / "r.html")]
    assert main([*base, "--baseline", "recency_days"]) == 2
    assert re.search(r"--baseline 'recency_days': .* is not a probability: \d+ values outside \[0, 1\]",
                     _err(capsys)[-1])
    assert main([*base, "--baseline", "segment"]) == 2
    assert "--baseline 'segment': scored.csv's column has 300 missing or non-numeric values" in _err(capsys)[-1]
    base[base.index("--score") + 1] = "recency_days"                # a score that is not a probability either
    assert main(base) == 2
    assert re.search(r"--score 'recency_days': .* is not a probability: \d+ values outside \[0, 1\]",
                     _err(capsys)[-1])
    assert not (tmp_path / "r.html").exists()            # a valid --baseline: tests/test_cli.py::test_report_command


def test_progress_lines_for_long_steps(tmp_path, tx_file, capsys, monkeypatch):
    import crmml.cli as cli

    crm = tx_file[3]
    leads = tmp_path / "leads.csv"
    crm.leads.to_csv(leads, index=False)
    model = tmp_path / "leads.zip"
    assert main(["train", "leads", "--input", str(leads), "--model", str(model)]) == 0
    err = "\n".join(_err(capsys))
    assert f"fitting LeadScorer on {len(crm.leads):,} leads" in err and "done in" in err
    monkeypatch.setattr(cli, "_REASONS_PART", 200)          # --reasons works in parts to report progress
    out = tmp_path / "scored.csv"
    assert main(["score", "--model", str(model), "--input", str(leads), "--output", str(out), "--reasons"]) == 0
    err = _err(capsys)
    assert [line for line in err if line.startswith("scored ") and " of " in line] == [
        f"scored 200 of {len(crm.leads)} lead_ids (40%) ...", f"scored 400 of {len(crm.leads)} lead_ids (80%) ..."]
    assert len(pd.read_csv(out)) == len(crm.leads)


@pytest.mark.slow
def test_bad_rows_on_the_raw_online_retail_file(tmp_path, tx_file, capsys):
    """The raw UCI export: 135,080 lines without CustomerID, cancellations (InvoiceNo 'C...', negative Quantity).

    The raw file has no line amount; UnitPrice is mapped to amount here (this test is about row accounting).
    """
    raw = shared_data_dir() / "online_retail" / "online_retail.csv.gz"
    if not raw.exists():
        pytest.skip(f"{raw} not available")
    n_input = len(pd.read_csv(raw, usecols=["InvoiceNo"]))
    cmap = ["--map", "CustomerID=customer_id,InvoiceDate=timestamp,UnitPrice=amount,Quantity=quantity"]
    model, out, bad = tx_file[2], tmp_path / "segments.parquet", tmp_path / "rejected.csv"
    assert main(["score", "--model", str(model), "--input", str(raw), "--output", str(out), *cmap,
                 "--bad-rows", str(bad)]) == 0
    summary = _err(capsys)[-1]
    rejected = pd.read_csv(bad, dtype={"InvoiceNo": str})
    m = re.search(r"\(([\d,]+) input rows: ([\d,]+) valid, ([\d,]+) rejected", summary)
    n_in, n_valid, n_bad = (int(g.replace(",", "")) for g in m.groups())
    assert n_in == n_input and n_valid + n_bad == n_input and n_bad == len(rejected) > 0
    assert set(rejected["crmml_reason"]) == {"customer_id: missing id"} and rejected["CustomerID"].isna().all()
    assert (rejected["crmml_line"].diff().dropna() > 0).all()
    scored = pd.read_parquet(out)
    assert len(scored) == pd.read_csv(raw, usecols=["CustomerID"])["CustomerID"].nunique()


@pytest.mark.parametrize("bad, problem", [(np.nan, "missing value"), (np.inf, "infinite value"),
                                          (-2e15, "larger than 1e+15 in magnitude")])
def test_row_problems_finds_bad_floats_in_a_float_column(bad, problem):
    """A float64 column (as parquet gives it) takes the no-copy path when clean, and still names each bad row."""
    from crmml._bad_rows import row_problems

    n = 1000
    tx = pd.DataFrame({"customer_id": np.arange(n) % 50, "timestamp": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(np.arange(n), unit="h"), "amount": np.linspace(-1e15, 1e15, n)})
    assert len(row_problems(tx, "transactions")) == 0          # +-1e15 itself is allowed
    tx.loc[[3, 777], "amount"] = bad
    found = row_problems(tx, "transactions")
    assert sorted(set(found["position"])) == [3, 777] and problem in set(found["problem"])


def test_read_ahead_returns_or_raises_what_the_reader_did():
    """crmml score reads transactions on a daemon thread while the model loads: the frame, or the reader's own
    exception (a named UserError stays one), comes back in the main thread."""
    from crmml._cli_guard import UserError
    from crmml._cli_io import ReadAhead

    assert ReadAhead(lambda args: args * 2, 21).result() == 42

    def bad(args):
        raise UserError("tx.csv: the required column ['amount'] is missing")

    ahead = ReadAhead(bad, None)
    with pytest.raises(UserError, match="amount"):
        ahead.result()
    assert ahead._thread.daemon                     # never holds up an exit


def test_crmml_named_errors_print_their_message_alone(capsys):
    # a library-side ParameterError (e.g. crmml score --k 0 reaching NextBestOffer.recommend) printed
    # "ParameterError: ... (rerun with --debug for the traceback)", as if it were a crash
    from crmml._cli_guard import run_guarded
    from crmml.exceptions import ParameterError

    def bad_k():
        raise ParameterError("The 'k' parameter of NextBestOffer.recommend must be an int in [1, 1000]. Got 0 instead.")

    assert run_guarded(bad_k, debug=False) == 2
    assert capsys.readouterr().err.strip() == ("crmml: error: The 'k' parameter of NextBestOffer.recommend must be an "
                                               "int in [1, 1000]. Got 0 instead.")

    def crash():
        raise RuntimeError("disk on fire")                    # not crmml's: type and the --debug pointer stay

    assert run_guarded(crash, debug=False) == 2
    assert "RuntimeError: disk on fire (rerun with --debug" in capsys.readouterr().err
