"""Hostile rule conditions: refused with crmml.RuleError, and nothing runs (no marker file appears).

Every payload that would run code tries to create a marker file; the tests first show that the same text
does run code through pandas' ``DataFrame.eval`` (what crmml used before), then that crmml refuses it when
a rule is written (fit), when it is evaluated (transform / score), and when it was rewritten in a saved
model file (load, score, the ``crmml score`` command).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from crmml import RuleError
from crmml._expression import MAX_CHARS, parse_condition
from crmml.persistence import ModelLoadError, load, save
from crmml.scoring import RuleLeadScorer
from crmml.segmentation import RuleSegmenter

X = pd.DataFrame({"x": [1.0, 5.0, np.nan], "y": [2, 3, 4], "name": ["a", "b", "c"]},
                 index=pd.Index([1, 2, 3], name="customer_id"))
LEADS = pd.DataFrame({"lead_id": [1, 2], "budget": [1, 0], "authority": [1, 1], "need": [1, 0], "timeline": [0, 1]})

RUN = "__import__('os').system('touch {m}')"
#: hostile conditions; ``{m}`` is replaced by the marker file's path
HOSTILE = [
    # the attack, and calls reached through attribute access
    "@pd.io.common.os.system('touch {m}') == 0",
    "x == @pd.io.common.os.system('touch {m}')",
    "pd.io.common.os.system('touch {m}') == 0",
    RUN,
    RUN + " == 0",
    "x > 0 and " + RUN + " == 0",
    "x.isna(" + RUN + ")",
    "x.isna().__class__",
    "x.__class__",
    "x.__class__.__mro__[1].__subclasses__()",
    "x.__getattribute__('__class__')",
    "x.__globals__",
    "x.isna",
    "x.notna(1)",
    "x.isna(**{{}})",
    "(x > 1).isna()",
    "`x`.__class__",
    "x.pipe(lambda d: " + RUN + ") == 0",
    "x.apply(lambda v: " + RUN + ") == 0",
    "x.abs() > 1",
    # builtins and dunder names
    "eval(\"" + RUN + "\") == 0",
    "exec(\"import os; os.system('touch {m}')\")",
    "compile('1', 'f', 'eval')",
    "open('{m}', 'w').write('x') > 0",
    "getattr(__import__('os'), 'system')('touch {m}')",
    "getattr(x, '__class__')",
    "getattr(getattr(x, '__cl' + 'ass__'), '__ba' + 'se__')",
    "globals()['os']",
    "vars()",
    "breakpoint()",
    "type(x).__subclasses__(x)",
    "__import__",
    "__builtins__['eval']('1')",
    "__class__ > 1",
    "`__class__` > 1",
    "ｅｖａｌ(\"" + RUN + "\") == 0",          # fullwidth letters: NFKC makes this eval(...)
    "__ｉｍｐｏｒｔ__('os').system('touch {m}')",
    # lambdas, comprehensions, generators
    "(lambda: " + RUN + ")() == 0",
    "lambda: 1",
    "[" + RUN + " for _ in [1]]",
    "{{" + RUN + " for _ in [1]}}",
    "{{k: " + RUN + " for k in [1]}}",
    "any(" + RUN + " for _ in [1])",
    "x in (v for v in [1])",
    # f-strings, walrus, starred, subscripts, other syntax
    "f\"{{" + RUN + "}}\" == '0'",
    "x == f'{{x}}'",
    "(y := __import__('os')).system('touch {m}')",
    "x in [*" + RUN + "]",
    "x in [" + RUN + "]",
    "x[0] > 1",
    "x[" + RUN + "]",
    "x[1:2] > 0",
    "x if " + RUN + " else x",
    "x is None",
    "x == {{'a': 1}}",
    "x in {{1, 2}}",
    "x == [1, 2]",
    "await x",
    "yield x",
    "x @ x > 0",
    "x << 2 > 0",
    "x ^ 1 > 0",
    "x > 1; " + RUN,
    "x > 1\n" + RUN,
    "x > 1 # \n" + RUN,
    "x > 1\x00",
    "x\u202e > 1",
    "`x > 1",
    "_crmml_bq_0 > 1",
    # resource exhaustion
    "9**9**9 > 1",
    "x ** 10**10 > 1",
    "x ** (2 ** 100) > 0",
    "x ** 17 > 0",
    "x ** y > 0",
    "'a' * 10**9 == name",
    "x * 'a' > ''",
    "x == 1" + "0" * 30,
    "x > 1e999",
    "x == b'abc'",
    "x == 1j",
    "x == ...",
    "x > '" + "a" * MAX_CHARS + "'",
    "x > 1" + " and x > 1" * 600,
    "not " * 60 + "x > 1",
    "-" * 3000 + "x > 1",
    "x ** " + "-" * 480 + "1 > 0",
    "(" * 300 + "x" + ")" * 300 + " > 1",
    "x" + " + x" * 600 + " > 1",
    "x in [" + ", ".join(["1"] * 1200) + "]",
    # not a condition
    "x + 1",
    "'x'",
    "42",
]


@pytest.fixture
def marker(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    m = tmp_path / "MARKER"
    yield m
    assert not m.exists(), "a rule ran code"


def _payloads(marker):
    return [h.format(m=marker) if "{" in h else h for h in HOSTILE]


def test_the_corpus_is_large_and_really_hostile(marker):
    """At least 50 payloads, and the code-running ones do run code through pandas' DataFrame.eval."""
    assert len(HOSTILE) >= 50 and len(set(HOSTILE)) == len(HOSTILE)
    ran = 0
    for payload in ["@pd.io.common.os.system('touch {m}') == 0", RUN + " == 0"]:
        p = payload.format(m=marker)
        try:
            pd.DataFrame({"x": [1.0]}).eval(p)
        except Exception:  # noqa: BLE001 - only the side effect matters here
            pass
        ran += marker.exists()
        marker.unlink(missing_ok=True)
    assert ran >= 1  # the attack of issue 12 is real in pandas


@pytest.mark.parametrize("i", range(len(HOSTILE)))
def test_hostile_condition_is_refused_and_runs_nothing(i, marker):
    payload = _payloads(marker)[i]
    with pytest.raises(RuleError) as info:
        parse_condition(payload, "rule")
    msg = str(info.value)
    assert msg.startswith("rule (") and len(msg) < 1200
    assert ("not allowed" in msg or "at most" in msg or "not a valid condition" in msg or "out of range" in msg
            or "literal" in msg or "must be a condition" in msg or "reserved" in msg or "backtick" in msg
            or "numbers only" in msg or "'**'" in msg), msg


@pytest.mark.parametrize("i", range(0, len(HOSTILE), 3))
def test_both_rule_classes_refuse_at_fit(i, marker):
    payload = _payloads(marker)[i]
    rs = RuleSegmenter([("ok", "x > 1"), ("evil", payload)])  # construction only stores the rules
    with pytest.raises(RuleError, match=r"RuleSegmenter.fit: rule 1 'evil'"):
        rs.fit(X)
    scorer = RuleLeadScorer({"ok": ("need > 0", 10), "evil": (payload, 5)})
    with pytest.raises(RuleError, match="RuleLeadScorer rule 'evil'"):
        scorer.fit()
    with pytest.raises(RuleError, match="RuleLeadScorer rule 'evil'"):
        scorer.fit(LEADS.assign(converted=[1, 0]))


def test_rules_are_checked_before_any_is_evaluated(marker):
    calls = []

    def counting(frame):
        calls.append(1)
        return frame["x"] > 0

    with pytest.raises(RuleError):
        RuleSegmenter([("first", counting), ("evil", RUN.format(m=marker))]).fit(X)
    fitted = RuleLeadScorer([{"name": "first", "condition": counting, "points": 1}]).fit()
    fitted.rules_.append({"name": "evil", "condition": RUN.format(m=marker), "points": 1.0, "kind": "fit"})
    with pytest.raises(RuleError, match="RuleLeadScorer rule 'evil'"):
        fitted.score_leads(LEADS.assign(x=1.0))
    assert calls == []


def test_rules_changed_after_fit_are_refused_at_score_time(marker):
    payload = "@pd.io.common.os.system('touch {m}') == 0".format(m=marker)
    rs = RuleSegmenter({"a": "x > 1"}).fit(X)
    rs.set_params(rules={"a": payload})
    with pytest.raises(RuleError, match="RuleSegmenter.transform: rule 0 'a'.*'@' .local variables. is not allowed"):
        rs.transform(X)
    scorer = RuleLeadScorer().fit()
    scorer.rules_[0]["condition"] = payload
    for call in (scorer.score_leads, scorer.matches, scorer.explain, scorer.evaluate):
        with pytest.raises(RuleError, match="RuleLeadScorer rule 'budget'"):
            call(LEADS.assign(converted=[1, 0]))


def test_text_columns_cannot_be_used_to_blow_up_memory():
    big = "name * 100000000 == ''"
    with pytest.raises(RuleError, match=r"arithmetic needs numbers, but 'name' gives dtype (str|object)"):
        RuleSegmenter({"a": big}).fit(X)
    with pytest.raises(RuleError, match="could not be evaluated on the X: TypeError"):
        RuleSegmenter({"a": "name > 1"}).fit(X)


# -- saved model files whose rule text was rewritten (manifest recomputed, no key) ----------------------------------
def _tamper(folder, old: str, new: str) -> None:
    meta = (folder / "metadata.json").read_text()
    assert json.dumps(old) in meta
    (folder / "metadata.json").write_text(meta.replace(json.dumps(old), json.dumps(new)))
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))


def _saved_attacks(tmp_path, marker):
    payload = "@pd.io.common.os.system('touch {m}') == 0".format(m=marker)
    scorer = save(RuleLeadScorer().fit(LEADS.assign(converted=[1, 0])), tmp_path / "scorer", format="dir")
    _tamper(scorer, "budget > 0", payload)
    seg = save(RuleSegmenter({"big": "x > 1", "small": "x <= 1"}).fit(X), tmp_path / "seg", format="dir")
    _tamper(seg, "x > 1", RUN.format(m=marker) + " == 0")
    return [(scorer, lambda m: m.score_leads(LEADS)), (seg, lambda m: m.transform(X))]


def test_tampered_model_file_runs_nothing_and_raises_a_crmml_error(tmp_path, marker):
    """Holds today: refused at load (once the loader calls _check_loaded_state) or at the latest when scoring."""
    for path, score in _saved_attacks(tmp_path, marker):
        try:
            model = load(path)
        except ModelLoadError:
            continue
        with pytest.raises(RuleError):
            score(model)
        with pytest.raises(RuleError):
            model._check_loaded_state()


def test_tampered_model_file_is_refused_at_load(tmp_path, marker):
    for path, _ in _saved_attacks(tmp_path, marker):
        with pytest.raises(ModelLoadError):
            load(path)


def test_crmml_score_on_a_tampered_rule_model_is_one_line_and_exit_2(tmp_path, marker, capsys):
    from crmml.cli import main

    path, _ = _saved_attacks(tmp_path, marker)[0]
    LEADS.to_csv(tmp_path / "leads.csv", index=False)
    out = tmp_path / "scores.csv"
    code = main(["score", "--model", str(path), "--input", str(tmp_path / "leads.csv"), "--output", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not out.exists()          # atomic outputs: nothing at the output path
    assert len(err) == 1 and err[0].startswith("crmml: error:") and "RuleLeadScorer" in err[0]
    assert "Traceback" not in "\n".join(err)


def test_check_loaded_state_accepts_intact_models_and_refuses_inconsistent_ones(tmp_path):
    for obj in (RuleLeadScorer().fit(), RuleLeadScorer({"a": ("need > 0", 5), "b": ("x < 0", -2, "fit")}).fit(),
                RuleSegmenter({"big": "x > 1"}).fit(X), RuleSegmenter([("a", "x > 1"), ("a", "y < 3")], "z")):
        obj._check_loaded_state()                        # what the loader will call: quiet on intact objects
        load(save(obj, tmp_path / f"m{id(obj)}", format="dir"))._check_loaded_state()
    scorer = RuleLeadScorer().fit()
    scorer.rules_[1]["points"] = 99.0
    with pytest.raises(RuleError, match="rules_ do not follow from its 'rules' parameter"):
        scorer._check_loaded_state()
    scorer = RuleLeadScorer().fit()
    scorer.max_points_ = 1.0
    with pytest.raises(RuleError, match="min_points_/max_points_ do not follow"):
        scorer._check_loaded_state()
    seg = RuleSegmenter({"big": "x > 1"}).fit(X)
    seg.segment_names_ = ["big", "huge", "Other"]
    with pytest.raises(RuleError, match="segment_names_ .* do not follow from its rules"):
        seg._check_loaded_state()
    with pytest.raises(RuleError, match="may hold only rule strings"):
        RuleSegmenter({"big": lambda d: d["x"] > 1})._check_loaded_state()
    with pytest.raises(RuleError, match="may hold only condition strings"):
        RuleLeadScorer({"big": (lambda d: d["x"] > 1, 1)})._check_loaded_state()


def test_rules_are_evaluated_without_pandas_eval_or_query(monkeypatch, tmp_path):
    """README: rules are "parsed by crmml, never DataFrame.eval": with pandas' eval and query made to raise,
    RuleSegmenter and RuleLeadScorer fit, score, save and load and give the masks computed by hand."""
    import pandas.core.computation.eval as pandas_eval

    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame({"recency days": rng.integers(0, 400, n).astype(float), "frequency": rng.integers(1, 20, n),
                          "segment": rng.choice(["a", "b", "c"], n)},
                         index=pd.Index(np.arange(n), name="customer_id"))
    frame.loc[frame.index[::17], "recency days"] = np.nan
    rules = [("lapsed", "`recency days` > 300 or `recency days`.isna()"),
             ("loyal", "5 <= frequency < 15 and segment in ['a', 'b']"),
             ("twice", "frequency * 2 - 1 >= 21 and not segment == 'c'")]
    r, f, s = frame["recency days"], frame["frequency"], frame["segment"]
    masks = [(r > 300) | r.isna(), (5 <= f) & (f < 15) & s.isin(["a", "b"]), (f * 2 - 1 >= 21) & ~(s == "c")]
    expected = np.select([m.to_numpy() for m in masks], [name for name, _ in rules], "Other")
    leads = frame.reset_index(names="lead_id").assign(converted=lambda d: (rng.random(n) < 0.3).astype(int))
    lead_rules = {name: (cond, 10 * (i + 1)) for i, (name, cond) in enumerate(rules)}
    points = sum(10 * (i + 1) * m.to_numpy() for i, m in enumerate(masks))

    def refuse(*args, **kwargs):
        raise AssertionError("pandas eval/query was called")

    for target, name in [(pd.DataFrame, "eval"), (pd.DataFrame, "query"), (pd, "eval"), (pandas_eval, "eval")]:
        monkeypatch.setattr(target, name, refuse)
    with pytest.raises(AssertionError, match="pandas eval/query was called"):
        frame.query("frequency > 1")                                 # the trap is armed

    seg = RuleSegmenter(rules).fit(frame)
    assert seg.transform(frame)["segment"].astype(str).tolist() == expected.tolist()
    again = load(save(seg, tmp_path / "seg.zip"))
    assert again.transform(frame)["segment"].astype(str).tolist() == expected.tolist()
    scorer = RuleLeadScorer(lead_rules).fit(leads)                   # with `converted`: calibrated too
    assert scorer.calibrator_ is not None
    scored = scorer.score_leads(leads)
    raw = load(save(scorer, tmp_path / "leads.zip")).matches(leads)
    assert raw.to_numpy().astype(bool).tolist() == np.column_stack([m.to_numpy() for m in masks]).tolist()
    by_points = scored["score"].reindex(leads["lead_id"]).groupby(points)    # one score per points total, rising
    assert (by_points.nunique() == 1).all() and by_points.first().is_monotonic_increasing
    assert by_points.first().is_unique and by_points.ngroups == len(np.unique(points)) > 3
