"""The install is lean and its lower bounds are the ones CI tests.

- shap and lifetimes are not core dependencies, and nothing in ``src/`` imports them (shap is the ``[shap]`` extra;
  lifetimes is a test-time reference, CDNOW ships in ``datasets/``); nor does it import the ``[bench]`` peers;
- exactly one xgboost build is required on every platform (``xgboost-cpu`` where xgboost publishes it);
- ``.ci/lower-bounds.txt``, which the lower-bounds CI job installs, pins exactly pyproject's lower bounds.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CORE = [Requirement(r) for r in PYPROJECT["dependencies"]]


def _lower_bound(req: Requirement) -> str:
    bounds = [s.version for s in req.specifier if s.operator == ">="]
    assert len(bounds) == 1, f"{req} needs exactly one lower bound"
    return bounds[0]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "lower-bounds.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _src_imports() -> set[tuple[str, str]]:
    """(top-level module, file) of every import in ``src/``: statements, and ``importlib.import_module`` /
    ``__import__`` calls with a constant name."""
    imported = set()
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {(a.name.split(".")[0], path.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add((node.module.split(".")[0], path.name))
            elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str)
                  and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
                imported.add((node.args[0].value.split(".")[0], path.name))
    assert ("numpy", "_loaders.py") in imported                         # the scan sees imports
    return imported


def test_shap_and_lifetimes_are_not_core_dependencies_and_src_never_imports_them():
    assert not {r.name.lower() for r in CORE} & {"shap", "lifetimes"}
    assert PYPROJECT["optional-dependencies"]["shap"] == ["shap>=0.45"]
    assert not [(m, f) for m, f in _src_imports() if m in ("shap", "lifetimes")]


def test_bench_peers_are_never_imported_by_crmml():
    """README: ``[bench]`` (polars, DuckDB, implicit: the peers the benchmarks time; never imported by crmml). Every
    package of the extra, as pyproject lists it, is checked, so a new peer is covered too."""
    peers = {Requirement(r).name.lower() for r in PYPROJECT["optional-dependencies"]["bench"]}
    assert {"polars", "duckdb", "implicit"} <= peers
    assert not peers & {r.name.lower() for r in CORE}
    assert not [(m, f) for m, f in _src_imports() if m.lower() in peers]


@pytest.mark.parametrize(("system", "machine", "expected"), [
    ("Linux", "x86_64", "xgboost-cpu"), ("Windows", "AMD64", "xgboost-cpu"), ("Linux", "aarch64", "xgboost"),
    ("Darwin", "arm64", "xgboost"), ("Darwin", "x86_64", "xgboost"), ("Windows", "ARM64", "xgboost"),
])
def test_exactly_one_xgboost_build_per_platform(system, machine, expected):
    env = {"platform_system": system, "platform_machine": machine}
    wanted = [r for r in CORE if r.name.startswith("xgboost") and (r.marker is None or r.marker.evaluate(env))]
    assert [r.name for r in wanted] == [expected]
    assert _lower_bound(wanted[0]) == "2.1.1"          # the first xgboost-cpu release


def test_lower_bounds_file_pins_the_pyproject_lower_bounds():
    pins = _pins()
    test_extra = [Requirement(r) for r in PYPROJECT["optional-dependencies"]["test"]]
    for req in CORE + [r for r in test_extra if r.name.lower() in ("pytest", "hypothesis", "lifetimes")]:
        name = req.name.lower()
        if name == "xgboost":                           # this machine (x86_64 Linux) installs xgboost-cpu
            continue
        assert name in pins and Version(pins[name]) == Version(_lower_bound(req)), \
            f"{name}: .ci/lower-bounds.txt {pins.get(name)} vs pyproject {req}"
