"""The documentation site covers the public API and agrees with the README.

The site itself is built by ``.ci/run`` (``sphinx-build -W``: any warning fails CI); these tests check what a build
cannot: that no public object is left out of the API reference, that each has a runnable example (the examples
themselves run as doctests), that the Guarantees page and the guides are the README's sections, and that the code
on the pages written for the site runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PUBLIC_MODULES = ("crmml", "crmml.schema", "crmml.exceptions", "crmml.datasets", "crmml.features",
                  "crmml.segmentation", "crmml.clv", "crmml.churn", "crmml.decisions", "crmml.scoring", "crmml.recommend",
                  "crmml.evaluation", "crmml.persistence", "crmml.spark")
#: public names documented under another public name (one page per object)
ALIASES = {"crmml.SchemaError": "crmml.schema.SchemaError", "crmml.CrmmlError": "crmml.exceptions.CrmmlError",
           "crmml.CrmmlWarning": "crmml.exceptions.CrmmlWarning"}


def _conf():
    spec = importlib.util.spec_from_file_location("crmml_docs_conf", DOCS / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    return conf


def _public_objects():
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if name != "__version__" and not inspect.ismodule(obj):
                yield modname, name, obj


def _documented() -> set[str]:
    """``module.name`` of every entry of an autosummary table in docs/api/."""
    out = set()
    for page in (DOCS / "api").glob("*.rst"):
        text = page.read_text()
        module = re.search(r"^\.\. currentmodule:: (\S+)", text, re.M)
        for block in re.findall(r"^\.\. autosummary::\n((?:   .*\n|\n)+)", text, re.M):
            names = [ln.strip() for ln in block.splitlines() if ln.strip() and not ln.strip().startswith(":")]
            out |= {f"{module.group(1)}.{n}" for n in names}
    return out


def test_every_public_object_has_a_page():
    documented = _documented()
    missing = [f"{m}.{n}" for m, n, _ in _public_objects() if ALIASES.get(f"{m}.{n}", f"{m}.{n}") not in documented]
    assert not missing, f"public objects without an API page (add them to docs/api/*.rst): {missing}"
    public = {ALIASES.get(f"{m}.{n}", f"{m}.{n}") for m, n, _ in _public_objects()}
    assert documented <= public, f"API pages for names that are not public: {sorted(documented - public)}"


def test_every_public_class_and_function_has_a_runnable_example():
    """Classes and functions show a ``>>>`` example (run by ``--doctest-modules``, so it is runnable); constants
    show their ``#:`` description instead."""
    missing = sorted({f"{m}.{n}" for m, n, obj in _public_objects()
                      if (inspect.isclass(obj) or inspect.isfunction(obj))
                      and ">>>" not in (inspect.getdoc(obj) or "")})
    assert not missing, f"public objects without an example in their docstring: {missing}"


def test_the_api_check_sees_a_missing_page(monkeypatch):
    import crmml.exceptions

    monkeypatch.setattr(crmml.exceptions, "__all__", [*crmml.exceptions.__all__, "NotAPage"], raising=True)
    monkeypatch.setattr(crmml.exceptions, "NotAPage", type("NotAPage", (ValueError,), {}), raising=False)
    with pytest.raises(AssertionError, match="crmml.exceptions.NotAPage"):
        test_every_public_object_has_a_page()


def test_guarantees_page_is_the_readme_section():
    page = (DOCS / "guarantees.md").read_text()
    assert re.search(r"```\{include\} _readme/guarantees\.md\n```", page)
    conf = _conf()
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- section:guarantees -->"):readme.index("<!-- /section:guarantees -->")]
    rows = [ln for ln in section.splitlines() if ln.startswith("| ")]
    assert len(rows) >= 25
    included = conf.readme_section("guarantees")
    assert [ln for ln in included.splitlines() if ln.startswith("| ")] == rows, "the page must hold every row as is"


@pytest.mark.parametrize("guide", sorted(p.stem for p in (DOCS / "guides").glob("*.md")))
def test_each_guide_is_its_readme_section(guide):
    conf = _conf()
    assert guide in conf.README_SECTIONS
    assert f"```{{include}} ../_readme/{guide}.md\n```" in (DOCS / "guides" / f"{guide}.md").read_text()
    assert f"<!-- section:{guide} -->" in (ROOT / "README.md").read_text()


def test_readme_links_are_rewritten_for_the_site():
    conf = _conf()
    text = ("<!-- section:x -->see [the notebook](notebooks/02_clv.ipynb), [DESIGN.md](../shared/DESIGN.md) and "
            "[docs](https://example.org)<!-- /section:x -->")
    assert conf.readme_section("x", text) == ("see [the notebook](../notebooks/02_clv.ipynb), DESIGN.md and "
                                              "[docs](https://example.org)")


@pytest.mark.parametrize("page", ["getting_started.md"])
def test_code_on_the_site_pages_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```$", (DOCS / page).read_text(), re.M | re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, f"<docs/{page}>", "exec"), {"__name__": "docs_example"})
