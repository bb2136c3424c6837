"""No markup from user data or model files in any HTML page crmml writes.

Every public function that writes HTML is called with every string it shows (titles, segment and
cluster names, column names, ids, category values, rule names, reasons, captions, notes, summary keys
and values) set to a payload of HTML, script, comment and CDATA break-outs. The written page is
parsed: every element and attribute must be crmml's own (no ``img``/``svg``/extra ``script``, no
``on*`` attribute, no ``javascript:`` URL, no comment), each plot's JSON must still parse, and each
payload must still be shown as text. Images are PNG (base64), never inline SVG.
"""

from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmml
from crmml.datasets import make_synthetic_crm

PAYLOAD = ('</script><script>alert(1)</script>"><img src=x onerror=alert(1)><svg/onload=alert(1)>'
           "</SCRIPT ><script >alert(2)</script\n/> javascript:alert(1) ]]> <!-- --> <![CDATA[ x ]]> "
           "\u2028\u2029 ' style=\"x:expression(alert(1))\" class=y id=z title=t onmouseover=alert(1) "
           "&lt;b&gt; &amp; <style>*{}</style>")


def evil(field: str) -> str:
    """The payload, tagged with the field it is put in (so each field's text can be found in the page)."""
    return f"{field}~{PAYLOAD}"


_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "table", "thead",
         "tbody", "tr", "th", "td", "div", "span", "figure", "img", "figcaption", "script", "a", "code"}
_ATTRS = {"lang", "charset", "name", "content", "class", "alt", "src", "type", "data-metric", "data-lower",
          "data-upper", "href"}
_URL_ATTRS = {"src", "href", "action", "formaction", "poster", "data"}
_CLASSES = {"sub", "meta", "kv", "ci", "better", "worse", "note", "scroll", "figs", "wide", "t", "plot-data"}
_PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.scripts, self.styles, self.other = [], [], [], [], []
        self._raw = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._raw = tag if tag in ("script", "style") else None

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self._raw = None

    def handle_data(self, data):
        {"script": self.scripts, "style": self.styles}.get(self._raw, self.text).append(data)

    def handle_comment(self, data):
        self.other.append(("comment", data))

    def handle_decl(self, decl):
        if decl.lower() != "doctype html":
            self.other.append(("decl", decl))

    def handle_pi(self, data):
        self.other.append(("pi", data))

    def unknown_decl(self, data):
        self.other.append(("unknown decl", data))


def check_page(path, fields) -> str:
    """Assert the page at ``path`` has only crmml's own markup and shows every field's payload as text."""
    raw = Path(path).read_text(encoding="utf-8")
    page = _Page()
    page.feed(raw)
    page.close()
    # html.parser ends a script only at "</script...>"; a browser ends it at "</script" followed by a space, "/" or
    # ">" in any case, and "<!--" inside changes how it looks for the end: count on the raw text as a browser would
    ends, starts = (len(re.findall(p, raw, re.I)) for p in (r"</script[\s/>]", r"<script[\s/>]"))
    n_figures = raw.count("<figcaption>")
    assert ends == starts == n_figures, f"{starts} <script and {ends} </script for {n_figures} figures"
    assert "<!--" not in raw
    injected = [(t, a) for t, a in page.tags if t not in _TAGS]
    assert not injected, f"elements from the payload: {injected[:3]}"
    for tag, attrs in page.tags:
        for k, v in attrs:
            assert k in _ATTRS, f"attribute from the payload: <{tag} {k}={v!r}>"
            if k in _URL_ATTRS:
                assert not (v or "").strip().lower().startswith("javascript:"), f"<{tag} {k}={v!r}>"
            if k == "class":
                assert set((v or "").split()) <= _CLASSES, f"<{tag} class={v!r}>"
        a = dict(attrs)
        if tag == "img":
            assert _PNG.fullmatch(a.get("src") or ""), f"<img src={a.get('src', '')[:40]!r}>: not an embedded PNG"
        if tag == "script":
            assert a == {"type": "application/json", "class": "plot-data"}, f"<script {attrs}>"
    assert not page.other, f"markup from the payload: {page.other[:3]}"
    counts = {t: sum(1 for tag, _ in page.tags if tag == t) for t in ("img", "figcaption", "script", "style")}
    assert counts["img"] == counts["figcaption"] == counts["script"], counts
    assert counts["style"] == 1 and len(page.styles) == 1, "a <style> came from the payload"
    assert len(page.scripts) == counts["script"]
    for data in page.scripts:
        json.loads(data)                   # the plot data is whole: nothing broke out of its tag
    shown = "".join(page.text)
    missing = [f for f in fields if evil(f) not in shown]
    assert not missing, f"payloads not shown as text: {missing}"
    return shown


# --------------------------------------------------------------------------------------------------- cases
def _figure(tag):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0], label=evil(tag + " line"), gid=evil(tag + " gid"))
    ax.set_title(evil(tag + " axes title"))
    ax.set_xlabel(evil(tag + " x label"))
    ax.legend()
    return fig


def _table(tag):
    t = pd.DataFrame({evil(tag + " column"): [evil(tag + " cell"), "b"], "customer_id": [evil(tag + " id"), "2"],
                      "n": [1, 2]}, index=pd.Index([evil(tag + " row"), "r2"], name=evil(tag + " index name")))
    t.columns = pd.MultiIndex.from_tuples([(c, evil(tag + " level 2") if i == 2 else "")
                                           for i, c in enumerate(t.columns)])
    return t


def case_report(path):
    from crmml.evaluation import report

    keys = [evil("metric"), "roc_auc"]
    ci = pd.DataFrame({"lower": 0.1, "upper": 0.9, "baseline_lower": 0.1, "baseline_upper": 0.9,
                       "difference_lower": 0.05, "difference_upper": 0.2}, index=keys)
    ci.attrs["level"] = 0.95
    report(path, title=evil("title"), subtitle=evil("subtitle"),
           data_summary={evil("summary key"): evil("summary value")},
           metrics=dict.fromkeys(keys, 0.5), baseline_metrics=dict.fromkeys(keys, 0.4),
           baseline_name=evil("baseline name"), metric_intervals=ci,
           figures=[(evil("figure caption"), _figure("figure"))],
           tables=[(evil("table caption"), _table("table")), (evil("series caption"),
                                                              pd.Series([evil("series value")], name=evil("series")))],
           notes=[evil("note")],
           sections=[(evil("section"), [(evil("section table caption"), _table("section")),
                                        (evil("section figure caption"), _figure("section"))])])
    return ["title", "subtitle", "summary key", "summary value", "metric", "baseline name", "figure caption",
            "table caption", "series caption", "series value", "series", "note", "section", "section table caption",
            "section figure caption", *(f"{t} {f}" for t in ("table", "section")
                                        for f in ("column", "cell", "id", "row", "index name", "level 2"))]


def case_classification_report(path):
    from crmml.evaluation import classification_report

    rng = np.random.default_rng(0)
    X = pd.DataFrame({evil("feature"): rng.normal(size=200), "b": rng.normal(size=200)})
    p = 1 / (1 + np.exp(-X.iloc[:, 0].to_numpy()))
    y = (rng.random(200) < p).astype(int)
    backtest = pd.DataFrame({"cutoff": [evil("cutoff")], "roc_auc": [0.7]})
    classification_report(path, y, p, title=evil("title"), subtitle=evil("subtitle"), baseline_prob=p ** 2,
                          baseline_name=evil("baseline name"), data_summary={evil("summary key"): evil("value")},
                          shap_values=np.c_[X.iloc[:, 0] * 0.5, X["b"] * 0.1], X=X, shap_units=evil("units"),
                          backtest=backtest, extra_figures={evil("extra figure"): _figure("extra")},
                          extra_tables={evil("extra table"): _table("extra")}, notes=[evil("note")], n_boot=5,
                          cost_per_contact=1.0, value_per_event=10.0,
                          extra_sections=[(evil("extra section"), [(evil("extra item"), _table("item"))])])
    return ["title", "subtitle", "baseline name", "summary key", "value", "feature", "units", "cutoff",
            "extra figure", "extra table", "extra column", "extra cell", "note", "extra section", "extra item",
            "item cell"]


def case_drift_report(path):
    from crmml.evaluation import drift_report

    rng = np.random.default_rng(1)
    cats = [evil("category a"), evil("category b"), "plain"]

    def frame(shift):
        return pd.DataFrame({evil("numeric column"): rng.normal(shift, size=300),
                             evil("text column"): rng.choice(cats, 300, p=[0.5 - shift / 4, 0.3, 0.2 + shift / 4])})

    drift_report(path, frame(0.0), frame(0.8), title=evil("title"), subtitle=evil("subtitle"), notes=[evil("note")])
    return ["title", "subtitle", "note", "numeric column", "text column"]


def case_segments_report(path):
    from crmml.evaluation import segments_report
    from crmml.segmentation import CustomerClusterer, RFMSegmenter, RuleSegmenter, default_rfm_segments, rfm_table

    crm = make_synthetic_crm(n_customers=200, seed=2, with_events=False)
    rfm = rfm_table(crm.transactions, as_of="2024-06-01")
    table = default_rfm_segments()
    table["segment"] = [evil(f"rfm {s}") for s in table["segment"]]
    before = RFMSegmenter(segments=table).fit(rfm).transform(rfm)["segment"]
    rules = RuleSegmenter(rules={evil("rule segment"): "monetary > 300"}, default=evil("default segment"))
    after = rules.fit(rfm).transform(rfm)["segment"]
    values = rfm.rename(columns={"monetary": evil("value column")})
    X = rfm[["recency", "frequency", "monetary"]].rename(columns={"frequency": evil("cluster feature")})
    cc = CustomerClusterer(n_clusters=3, random_state=0,
                           vocabulary={"recency": (evil("low word"), evil("high word"))}).fit(X)
    segments_report(path, after, values, previous_segments=before, clusterer=cc, X=X, title=evil("title"),
                    subtitle=evil("subtitle"), notes=[evil("note")], figures=[(evil("figure"), _figure("fig"))])
    return ["title", "subtitle", "note", "figure", "rule segment", "default segment", "value column",
            "cluster feature", "rfm Champions"]


def _leads():
    crm = make_synthetic_crm(n_customers=50, n_leads=300, seed=3, with_events=False)
    leads = crm.leads.copy()
    leads["lead_id"] = [f"{evil('lead')}#{i}" for i in range(len(leads))]
    for c in ("industry", "source"):
        leads[c] = leads[c].astype(str).map(lambda v, c=c: evil(f"{c} {v}"))
    return leads


def case_leads_report(path):
    from crmml.evaluation import leads_report
    from crmml.scoring import LeadScorer

    leads = _leads()
    scorer = LeadScorer(model="logistic", cv=3).fit(leads)
    leads_report(path, scorer, leads, n_leads=10, n_boot=5, title=evil("title"), subtitle=evil("subtitle"),
                 notes=[evil("note")], baseline_prob=leads["seniority"] / 5, baseline_name=evil("baseline"))
    return ["title", "subtitle", "note", "baseline", "lead"]


def case_leads_report_rules(path):
    from crmml.evaluation import leads_report
    from crmml.scoring import RuleLeadScorer

    leads = _leads().drop(columns="converted")
    scorer = RuleLeadScorer(rules={evil("rule"): ("has_budget == 1", 10), "big": ("employees > 100", 5)}).fit()
    leads_report(path, scorer, leads, n_leads=10, title=evil("title"))
    return ["title", "rule", "lead"]


def case_clv_report(path):
    from crmml.clv import CLVModel
    from crmml.evaluation import clv_report

    crm = make_synthetic_crm(n_customers=200, seed=4, with_events=False)
    tx = crm.transactions.assign(customer_id=lambda d: d["customer_id"].map(lambda i: f"{evil('customer')}#{i}"))
    model = CLVModel(freq="W").fit(tx, as_of="2024-01-01")
    clv_report(path, model, tx, end="2024-07-01", n_points=5, title=evil("title"), subtitle=evil("subtitle"),
               figures=[(evil("figure"), _figure("fig"))], tables=[(evil("table"), _table("table"))],
               notes=[evil("note")])
    return ["title", "subtitle", "figure", "table", "note", "table cell"]


@pytest.fixture(scope="module")
def planner():
    from crmml.churn import ChurnModel
    from crmml.decisions import RetentionPlanner

    crm = make_synthetic_crm(n_customers=200, seed=5, with_events=False)
    tx = crm.transactions.assign(customer_id=lambda d: d["customer_id"].map(lambda i: f"{evil('customer')}#{i}"))
    return RetentionPlanner(churn_model=ChurnModel(n_estimators=10, min_child_weight=1), n_snapshots=2,
                            windows=(30, 90)).fit(tx, "2024-07-01")


def case_retention_report(path, planner):
    plan = planner.plan(cost=1.0, effect=0.2)
    plan["churn_reasons"] = evil("reason")
    planner.report(path, plan, title=evil("title"))
    return ["title", "reason", "customer"]


def case_cli_report(path, tmp_path):
    from crmml.cli import main

    rng = np.random.default_rng(6)
    p = rng.random(200)
    df = pd.DataFrame({"customer_id": [f"{evil('customer')}#{i}" for i in range(200)], "prob": p,
                       evil("column"): rng.random(200), "churned": (rng.random(200) < p).astype(int)})
    df.to_csv(tmp_path / "scored.csv", index=False)
    ref = tmp_path / "ref <img src=x onerror=alert(1)>.csv"
    df.assign(prob=np.clip(p + 0.3, 0, 1)).to_csv(ref, index=False)
    assert main(["report", "--input", str(tmp_path / "scored.csv"), "--label", "churned", "--score", "prob",
                 "--output", str(path), "--title", evil("title"), "--reference", str(ref), "--quiet"]) == 0
    return ["title", "column"]


def case_demo_index(path):
    from crmml._demo import _Ctx, _index

    ctx = _Ctx(path.parent, quick=True, say=None)
    ctx.results = [{"step": evil("step"), "status": evil("status"), "report": path.parent / "segments.html",
                    "headline": evil("headline"), "seconds": 1.0}]
    _index(ctx, 1.0).replace(path)
    return ["step", "status", "headline"]


CASES = {
    "crmml.evaluation.report": case_report,
    "crmml.evaluation.classification_report": case_classification_report,
    "crmml.evaluation.drift_report": case_drift_report,
    "crmml.evaluation.segments_report": case_segments_report,
    "crmml.evaluation.leads_report": case_leads_report,
    "crmml.evaluation.leads_report (RuleLeadScorer)": case_leads_report_rules,
    "crmml.evaluation.clv_report": case_clv_report,
    "crmml.decisions.RetentionPlanner.report": case_retention_report,
    "crmml report (CLI)": case_cli_report,
    "crmml._demo._index": case_demo_index,
}


@pytest.mark.parametrize("name", list(CASES))
def test_no_markup_from_user_strings(name, tmp_path, request):
    case = CASES[name]
    path = tmp_path / "page.html"
    extra = [request.getfixturevalue(a) if a != "tmp_path" else tmp_path
             for a in case.__code__.co_varnames[1:case.__code__.co_argcount]]
    fields = case(path, *extra)
    check_page(path, fields)


# --------------------------------------------------------------------------------------------- enumeration
_SRC = Path(crmml.__file__).resolve().parent


def _html_writers() -> set:
    """Public functions and methods named ``*report`` and any function holding an HTML document literal."""
    found = set()
    for file in _SRC.rglob("*.py"):
        mod = ".".join(file.relative_to(_SRC.parent).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.endswith("report") and not item.name.startswith("_"):
                    found.add(f"{mod}.{node.name}.{item.name}")
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                public = node.name.endswith("report") and not node.name.startswith("_")
                doc = any(isinstance(c, ast.Constant) and isinstance(c.value, str) and "<!DOCTYPE html" in c.value
                          for c in ast.walk(node))
                if public or doc:
                    found.add(f"{mod}.{node.name}")
    return found


def test_every_html_writer_is_in_the_injection_cases():
    import importlib

    covered = set()
    for name in CASES:
        dotted = name.split(" ")[0]
        if dotted == "crmml":
            covered.add("crmml.cli._cmd_report")
            continue
        parts = dotted.split(".")
        obj = importlib.import_module(".".join(parts[:2]))
        for p in parts[2:]:
            obj = getattr(obj, p)
        covered.add(f"{obj.__module__}.{obj.__qualname__}")
    writers = _html_writers()
    assert {"crmml.evaluation._report.report", "crmml.decisions._retention.RetentionPlanner.report"} <= writers
    assert writers - covered == set(), "HTML writers without an injection case: add them to CASES"


def test_a_dollar_sign_in_a_segment_name_does_not_stop_the_report(tmp_path):
    """Found by this audit: matplotlib read '$...$' in a name drawn in a plot as mathtext, so '$10-$50' was drawn
    as a formula and '$^$' (a segment name, possibly from a model file) stopped the report with matplotlib's
    ParseSyntaxException. Report images now draw every name as plain text (figure_to_png)."""
    from matplotlib.figure import Figure

    from crmml.evaluation import drift_report, segments_report
    from crmml.evaluation._report import figure_to_png

    s = pd.Series(["spend $^$ high", "$10-$50", "low"], index=[1, 2, 3])
    segments_report(tmp_path / "s.html", s, previous_segments=s)
    assert "spend $^$ high" in (tmp_path / "s.html").read_text()
    ref = pd.DataFrame({"cost $^$": np.arange(50.0), "band": ["$10-$50", "$^$"] * 25})
    drift_report(tmp_path / "d.html", ref, ref.assign(**{"cost $^$": ref["cost $^$"] + 5}))
    ax = Figure().add_subplot()
    ax.bar(["$^$", "$10-$50"], [1, 2])
    ax.set_title("$\\frac{$")
    assert figure_to_png(ax)[:4] == b"\x89PNG"
