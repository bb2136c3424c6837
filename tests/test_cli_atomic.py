"""The crmml command at the trust boundary: atomic outputs, interruptions, signed and hostile model files.

Every failure must end as one line ``crmml: error: ...`` on stderr with exit status 2, leave nothing at the
output path (a previous file there stays as it was) and no temporary file beside it (except after SIGKILL).
"""

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmml
from crmml.cli import TASKS, main
from crmml.persistence import save

SRC = str(Path(crmml.__file__).resolve().parents[1])


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("crmml: error: ") and "Traceback" not in err[0]
    return err[0]


def _temporaries(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".crmml-"))


def _transactions(n_customers: int, per_customer: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n_customers), per_customer)
    seconds = rng.integers(0, 365 * 24 * 3600, n_customers * per_customer)
    return pd.DataFrame({"customer_id": ids,
                         "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(seconds, unit="s"),
                         "amount": rng.gamma(2.0, 20.0, len(ids)).round(2)})


def _rfm_model(tx: pd.DataFrame, path: Path) -> Path:
    from crmml.segmentation import RFMSegmenter, rfm_table

    return save(RFMSegmenter().fit(rfm_table(tx, "2024-01-01")), path)


# ----------------------------------------------------------------------------------------- kill mid-run
@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    """20,000 customers x 10 rows as parquet and an RFM model: ``--batch 50`` takes well over ten seconds."""
    folder = tmp_path_factory.mktemp("big")
    tx = _transactions(20_000, 10, seed=1)
    tx.to_parquet(folder / "tx.parquet", index=False)
    return folder, _rfm_model(tx, folder / "rfm.zip")


def _start_scoring(folder: Path, model: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, "-m", "crmml.cli", "--quiet", "score", "--model", str(model),
                             "--input", str(folder / "tx.parquet"), "--output", str(out), "--batch", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _wait_for_temporary(proc: subprocess.Popen, out: Path, timeout: float = 90.0) -> Path:
    tmp = out.with_name(f".crmml-{proc.pid}-{out.name}")
    deadline = time.monotonic() + timeout
    while not tmp.exists():
        if proc.poll() is not None:
            pytest.fail(f"crmml score ended before writing its first batch: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no temporary output file appeared")
        time.sleep(0.02)
    return tmp


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sigkill_mid_run_leaves_nothing_at_the_output_path(big_run, tmp_path, fmt):
    folder, model = big_run
    out = tmp_path / f"scores.{fmt}"
    proc = _start_scoring(folder, model, out)
    tmp = _wait_for_temporary(proc, out)
    time.sleep(0.3)                                    # a few more batches appended to the temporary file
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL          # really killed mid-run, not finished
    assert not out.exists()
    assert tmp.exists() and tmp.stat().st_size > 0     # a leftover temporary file is acceptable, beside it


@pytest.mark.parametrize("sig, message", [(signal.SIGTERM, "terminated (SIGTERM)"),
                                          (signal.SIGINT, "interrupted (Ctrl-C)")])
def test_sigterm_and_ctrl_c_clean_up_and_keep_the_previous_file(big_run, tmp_path, sig, message):
    folder, model = big_run
    out = tmp_path / "scores.csv"
    out.write_text("previous,run\n1,2\n")
    proc = _start_scoring(folder, model, out)
    _wait_for_temporary(proc, out)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [f"crmml: error: {message}; no output was written"]
    assert out.read_text() == "previous,run\n1,2\n"
    assert _temporaries(tmp_path) == []


# ----------------------------------------------------------------------------------------- failures in-process
@pytest.fixture
def small(tmp_path):
    tx = _transactions(120, 4, seed=2)
    tx.to_csv(tmp_path / "tx.csv", index=False)
    return tmp_path, tx, _rfm_model(tx, tmp_path / "rfm.zip")


def _score(folder, model, out, *extra):
    return main(["--quiet", "score", "--model", str(model), "--input", str(folder / "tx.csv"),
                 "--output", str(out), *extra])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_failing_batch_leaves_no_partial_output(small, monkeypatch, capsys, fmt):
    folder, _, model = small
    cls, train, score, reads, key = TASKS["segments"]
    calls = []

    def fails_on_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return score(*args)

    monkeypatch.setitem(TASKS, "segments", (cls, train, fails_on_third_batch, reads, key))
    out = folder / f"scores.{fmt}"
    assert _score(folder, model, out, "--batch", "10") == 2
    assert _one_error_line(capsys) == ("crmml: error: RuntimeError: disk on fire (rerun with --debug for the "
                                       "traceback)")
    assert len(calls) == 3 and not out.exists() and _temporaries(folder) == []
    out.write_bytes(b"yesterday's scores")                 # a previous file is left untouched
    calls.clear()
    assert _score(folder, model, out, "--batch", "10") == 2
    assert out.read_bytes() == b"yesterday's scores" and _temporaries(folder) == []


def test_an_output_naming_an_input_file_is_refused(small, capsys):
    # hostile audit: --output equal to --input replaced the transactions by the scores (exit 0)
    folder, _, model = small
    before = (folder / "tx.csv").read_bytes()
    assert _score(folder, model, folder / "tx.csv") == 2
    assert _one_error_line(capsys).endswith("is the same file as --input; the command would replace it. Choose "
                                            "another path.")
    assert (folder / "tx.csv").read_bytes() == before
    assert _score(folder, model, folder / "out.csv", "--bad-rows", str(folder / "." / "tx.csv")) == 2
    assert "--bad-rows" in _one_error_line(capsys) and not (folder / "out.csv").exists()


def test_output_is_complete_and_nothing_is_left_beside_it(small):
    folder, tx, model = small
    out = folder / "sub" / "scores.csv.gz"                 # compression inferred from the target's suffix
    assert _score(folder, model, out, "--batch", "7") == 0
    assert pd.read_csv(out)["customer_id"].nunique() == tx["customer_id"].nunique()
    assert _temporaries(out.parent) == [] and _temporaries(folder) == []


@pytest.mark.parametrize("kind", ["segments", "clv", "churn"])
def test_a_batch_without_history_contributes_nothing(tmp_path, kind):
    """Customers 0-29 buy only after as_of, so with --batch 30 the first batch has no history (churn used to fail)."""
    tx = _transactions(300, 6, seed=3)
    late = tx["customer_id"] < 30
    tx.loc[late, "timestamp"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(tx.loc[late, "customer_id"], "h")
    tx.to_csv(tmp_path / "tx.csv", index=False)
    model = tmp_path / "m.zip"
    assert main(["--quiet", "train", kind, "--input", str(tmp_path / "tx.csv"), "--model", str(model),
                 "--as-of", "2024-01-01", "--churn-horizon-days", "60"]) == 0
    outs = []
    for extra in ([], ["--batch", "30"]):
        out = tmp_path / f"out{len(extra)}{extra[-1] if extra else ''}.parquet"
        assert _score(tmp_path, model, out, "--as-of", "2024-01-01", *extra) == 0
        outs.append(pd.read_parquet(out).set_index("customer_id").sort_index())
    assert outs[0].index.tolist() == list(range(30, 300))
    pd.testing.assert_frame_equal(outs[0], outs[1])


@pytest.mark.parametrize("as_of, message", [
    ("9999-12-31", "--as-of '9999-12-31' is outside the dates pandas can represent"),
    ("1500-01-01", "--as-of '1500-01-01' is outside the dates pandas can represent"),
    ("2022-06-01", "--as-of 2022-06-01: no transaction is before it (the first is on 2023-01-01)"),
    ("someday", "--as-of 'someday' is not a date"),
])
def test_bad_as_of_never_scores_zero_rows(small, capsys, as_of, message):
    folder, _, model = small
    out = folder / "scores.csv"
    assert _score(folder, model, out, "--as-of", as_of) == 2
    assert _one_error_line(capsys).startswith(f"crmml: error: {message}")
    assert not out.exists()


def test_as_of_after_the_data_warns_once(small, capsys):
    folder, _, model = small
    assert _score(folder, model, folder / "s.csv", "--as-of", "2025-06-01", "--batch", "10") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["crmml: warning: as_of 2025-06-01 is 517 days after the last row of the input "
                   f"({pd.read_csv(folder / 'tx.csv')['timestamp'].max()}): every customer looks inactive for "
                   "that gap; pass the cut-off that matches the data."]


def test_map_onto_an_existing_column_names_both(small, capsys):
    folder, tx, model = small
    tx.assign(Total=tx["amount"]).to_csv(folder / "tx.csv", index=False)
    assert _score(folder, model, folder / "s.csv", "--map", "Total=amount") == 2
    assert _one_error_line(capsys) == ("crmml: error: tx.csv: the column mapping renames 'Total' to 'amount', but "
                                       "the frame already has a column 'amount'; drop one of the two or map it "
                                       "to another name")


def test_train_and_report_outputs_are_atomic(small, monkeypatch, capsys):
    folder, _, _ = small
    model = folder / "model.zip"
    model.write_bytes(b"previous model")

    def save_then_fail(obj, path, **kw):
        Path(path).write_bytes(b"half a model")
        raise OSError("No space left on device")

    monkeypatch.setattr("crmml.persistence.save", save_then_fail)
    assert main(["--quiet", "train", "segments", "--input", str(folder / "tx.csv"), "--model", str(model)]) == 2
    assert "No space left on device" in _one_error_line(capsys)
    assert model.read_bytes() == b"previous model" and _temporaries(folder) == []
    monkeypatch.undo()

    rng = np.random.default_rng(0)
    pd.DataFrame({"p": rng.random(200), "y": rng.integers(0, 2, 200)}).to_csv(folder / "scored.csv", index=False)

    def report_then_fail(path, *args, **kw):
        Path(path).write_text("<html>half")
        raise KeyboardInterrupt

    monkeypatch.setattr("crmml.evaluation.classification_report", report_then_fail)
    out = folder / "report.html"
    assert main(["report", "--input", str(folder / "scored.csv"), "--label", "y", "--score", "p",
                 "--output", str(out)]) == 2
    assert _one_error_line(capsys) == "crmml: error: interrupted (Ctrl-C); no output was written"
    assert not out.exists() and _temporaries(folder) == []


def test_model_folder_is_replaced_whole(small):
    folder, _, _ = small
    model = folder / "clv_model"
    for horizon in ("100", "200"):
        assert main(["--quiet", "train", "clv", "--input", str(folder / "tx.csv"), "--model", str(model),
                     "--horizon-days", horizon]) == 0
    from crmml.persistence import load

    assert load(model).horizon_days == 200 and _temporaries(folder) == []


# ----------------------------------------------------------------------------------------- signed models
def test_signed_models_key_and_environment(small, monkeypatch, capsys):
    folder, _, _ = small
    signed, unsigned = folder / "signed.zip", folder / "unsigned.zip"
    train = ["--quiet", "train", "segments", "--input", str(folder / "tx.csv")]
    assert main([*train, "--model", str(signed), "--key", "s3cret"]) == 0
    assert main([*train, "--model", str(unsigned)]) == 0
    out = folder / "s.csv"
    assert _score(folder, signed, out, "--key", "s3cret") == 0 and out.exists()
    out.unlink()
    assert _score(folder, signed, out, "--key", "wrong") == 2
    assert "failed its signature check" in _one_error_line(capsys) and not out.exists()
    assert _score(folder, unsigned, out, "--key", "s3cret") == 2
    assert "is not signed" in _one_error_line(capsys) and not out.exists()
    monkeypatch.setenv("CRMML_MODEL_KEY", "s3cret")
    assert _score(folder, unsigned, out) == 2                  # the environment variable demands a signature
    assert "is not signed" in _one_error_line(capsys)
    assert _score(folder, signed, out) == 0
    monkeypatch.setenv("CRMML_MODEL_KEY", "other")
    assert _score(folder, signed, out) == 2
    assert "failed its signature check" in _one_error_line(capsys)
    env_signed = folder / "env_signed.zip"
    assert main([*train, "--model", str(env_signed)]) == 0        # train signs with $CRMML_MODEL_KEY
    assert _score(folder, env_signed, out, "--key", "other") == 0


def _rewrite_zip(src: Path, dst: Path, change) -> None:
    """Copy a model zip with ``change(members)`` applied and the SHA-256 entries of the manifest recomputed."""
    import hashlib
    import json

    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    manifest = json.loads(members["manifest.json"])
    if isinstance(manifest.get("files"), dict):
        manifest["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"}
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


def test_a_tampered_signed_model_is_refused(small, capsys):
    """The attacker rewrites metadata.json and recomputes the hashes, but cannot recompute the HMAC."""
    folder, _, _ = small
    signed = folder / "signed.zip"
    assert main(["--quiet", "train", "segments", "--input", str(folder / "tx.csv"), "--model", str(signed),
                 "--key", "s3cret"]) == 0
    evil = folder / "evil.zip"
    _rewrite_zip(signed, evil, lambda m: m.update({"metadata.json": m["metadata.json"] + b" "}))
    assert _score(folder, evil, folder / "s.csv", "--key", "s3cret") == 2
    _one_error_line(capsys)
    assert not (folder / "s.csv").exists()


def _hostile_files(good: bytes, seed: int):
    rng = np.random.default_rng(seed)
    yield "empty", b""
    yield "random bytes", rng.bytes(2000)
    yield "text", b"not a zip at all"
    for cut in (10, len(good) // 3, len(good) // 2, len(good) - 22, len(good) - 1):
        yield f"truncated at {cut}", good[:cut]
    for i in range(30):
        data = bytearray(good)
        for pos in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[pos] ^= int(rng.integers(1, 256))
        yield f"byte flips {i}", bytes(data)
    import hashlib
    import json

    deep = ("[" * 100_000 + "]" * 100_000).encode()       # RecursionError in json.loads
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", deep)
        zf.writestr("manifest.json", json.dumps({"algorithm": "sha256",
                                                 "files": {"metadata.json": hashlib.sha256(deep).hexdigest()}}))
    yield "deep json", buf.getvalue()


def test_corrupted_or_hostile_model_files_end_in_one_line(small, tmp_path, capsys):
    folder, _, model = small
    good = Path(model).read_bytes()
    out = folder / "s.csv"
    n = 0
    for name, data in _hostile_files(good, seed=7):
        bad = tmp_path / "bad.zip"
        bad.write_bytes(data)
        code = _score(folder, bad, out)
        line = capsys.readouterr().err.strip().splitlines()
        if code == 0:                                   # a flip in a byte nobody reads: same model, same output
            assert line == [] and pd.read_csv(out).equals(pd.read_csv(_reference(folder, model)))
            out.unlink()
            continue
        assert code == 2, name
        assert len(line) == 1 and line[0].startswith("crmml: error: ") and "Traceback" not in line[0], name
        assert not out.exists(), name
        n += 1
    assert n >= 30


def _reference(folder, model):
    ref = folder / "reference.csv"
    if not ref.exists():
        assert _score(folder, model, ref) == 0
    return ref


def test_a_signal_swallowed_by_a_finaliser_still_stops_the_run(small, monkeypatch, capsys):
    """A signal handler's exception is lost when the signal lands in a ``__del__`` ("Exception ignored in"); the
    handler also records the signal, and the command checks it between batches and before the rename."""
    import signal as _signal

    from crmml import _cli_guard, cli

    folder, _, model = small
    out = folder / "scores.csv"
    kind, (cls, train, score, reads, key) = "segments", cli.TASKS["segments"]

    def swallowed(*args):
        _cli_guard._INTERRUPTED.append(_signal.SIGTERM)       # what the handler records; its exception was lost
        return score(*args)

    monkeypatch.setitem(cli.TASKS, kind, (cls, train, swallowed, reads, key))
    assert _score(folder, model, out, "--batch", "10") == 2
    assert _one_error_line(capsys) == "crmml: error: terminated (SIGTERM); no output was written"
    assert not out.exists() and _temporaries(folder) == []


def test_an_atomic_write_flushes_its_output_and_the_folder_entry_not_the_other_files(tmp_path, monkeypatch):
    """The rename is made durable by flushing the output folder's entries; the other files in that folder (a data
    lake folder may hold millions) are not flushed one by one. A folder output is flushed with its files."""
    from crmml._atomic import atomic_path

    for i in range(5):
        (tmp_path / f"other_{i}.parquet").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.csv").write_text("y")
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(Path(path)) or real_open(path, *a, **k))
    with atomic_path(tmp_path / "scores.csv") as tmp:
        tmp.write_text("customer_id,score\n1,0.5\n")
    assert not any(p.name.startswith("other_") or p.name == "deep.csv" for p in opened), opened
    assert tmp_path in opened and any(p.name.endswith("scores.csv") for p in opened)
    opened.clear()
    with atomic_path(tmp_path / "parts") as tmp:          # a folder output: its own files are flushed
        tmp.mkdir()
        (tmp / "part-0.parquet").write_bytes(b"z")
    assert any(p.name == "part-0.parquet" for p in opened)
    assert not any(p.name.startswith("other_") for p in opened)
    assert (tmp_path / "parts" / "part-0.parquet").read_bytes() == b"z"
