"""Sphinx configuration of the crmml documentation site.

Build (zero warnings, run by .ci/run): ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The notebooks are copied from ``notebooks/`` and rendered from their stored outputs (never executed here);
the guides and the "Guarantees" page include the README's sections, so the site and the README cannot drift.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))          # document this checkout even without an editable install

import crmml  # noqa: E402

project = "crmml"
author = "the crmml authors"
copyright = "crmml authors, Apache-2.0"
release = version = crmml.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
]
exclude_patterns = ["_build", "_readme", "jupyter_execute", "**.ipynb_checkpoints"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# the API reference: one page per public object, generated from the docstrings
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"                     # numpydoc's Parameters section says the types
numpydoc_show_class_members = False            # the class page lists its methods once (autodoc members)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# notebooks: rendered from their stored outputs, never executed by the docs build
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]            # README sections start at level 2 inside a page

html_theme = "pydata_sphinx_theme"
html_title = f"crmml {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_static_path: list[str] = []


README = ROOT / "README.md"
#: README sections the guides and the Guarantees page include (``<!-- section:NAME -->`` markers)
README_SECTIONS = ("schema", "segmentation", "clv", "churn", "scoring", "recommend", "evaluation", "spark",
                   "guarantees")


def readme_section(name: str, text: str | None = None) -> str:
    """The README's section ``name`` (between its markers), links rewritten for a page in ``docs/guides/``.

    Links into ``notebooks/`` point at the rendered notebooks; other relative links (``../shared/``, files of the
    repository) become plain text, since the site does not hold them.
    """
    import re

    text = README.read_text() if text is None else text
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    body = text[text.index(start) + len(start):text.index(end)]
    body = re.sub(r"\]\(notebooks/([\w.]+)\.ipynb\)", r"](../notebooks/\1.ipynb)", body)
    return re.sub(r"\[([^\]]+)\]\((?!https?://|#|\.\./notebooks/)[^)]+\)", r"\1", body)


def _write_readme_sections(app):
    """docs/_readme/<section>.md (git-ignored): what the guides include."""
    out = Path(app.srcdir) / "_readme"
    out.mkdir(exist_ok=True)
    for name in README_SECTIONS:
        path, body = out / f"{name}.md", readme_section(name)
        if name == "guarantees":            # the page has its own title
            body = body.replace("## Guarantees\n", "", 1)
        if not path.exists() or path.read_text() != body:
            path.write_text(body)


def _data_docstring(app, what, name, obj, options, lines):
    """Module constants re-exported by a package: take the ``#:`` comment where they are defined, not the
    docstring of their type (a DataFrame's, a dict's)."""
    if what != "data":
        return
    from sphinx.pycode import ModuleAnalyzer

    short = name.rpartition(".")[2]
    package = name.rpartition(".")[0]
    for path in sorted((ROOT / "src" / Path(*package.split("."))).glob("*.py")) or [ROOT / "src" / Path(*package.split(".")).with_suffix(".py")]:
        mod = ".".join(path.relative_to(ROOT / "src").with_suffix("").parts)
        docs = ModuleAnalyzer.for_file(str(path), mod).find_attr_docs()
        if ("", short) in docs:
            lines[:] = list(docs[("", short)])
            return
    lines[:] = []


def _skip_member(app, what, name, obj, skip, options):
    """scikit-learn's generated metadata-routing methods (``set_fit_request`` ...) are not crmml's API."""
    if name == "get_metadata_routing" or (name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def _copy_notebooks(app):
    """notebooks/*.ipynb -> docs/notebooks/ (git-ignored), so Sphinx renders them with their stored outputs."""
    target = Path(app.srcdir) / "notebooks"
    target.mkdir(exist_ok=True)
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        dst = target / nb.name
        if not dst.exists() or dst.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, dst)


def setup(app):
    app.connect("builder-inited", _copy_notebooks)
    app.connect("builder-inited", _write_readme_sections)
    app.connect("autodoc-process-docstring", _data_docstring)
    app.connect("autodoc-skip-member", _skip_member)
