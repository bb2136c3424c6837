"""Every error crmml raises for a user's mistake is a named crmml error, with one base class.

- every exception class defined in ``src/crmml`` subclasses :class:`crmml.exceptions.CrmmlError` (keeping its
  builtin base), every warning class :class:`crmml.exceptions.CrmmlWarning`;
- no ``raise ValueError/TypeError/...(...)`` of a builtin exception in ``src/crmml`` outside the allowlist below
  (internal invariants, and the fitted-state checks only the model-file loader reaches, which it wraps in
  ``ModelLoadError``): a new plain raise on a user-facing path fails here;
- representative user mistakes across the subpackages raise a ``CrmmlError`` that is still a ``ValueError`` and
  whose message says what to fix.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmml
from crmml.exceptions import CrmmlError, CrmmlWarning

SRC = Path(__file__).resolve().parents[1] / "src" / "crmml"
BUILTIN_EXCEPTIONS = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}

#: exception classes of crmml that are no user-facing error
NOT_USER_ERRORS = {
    "crmml._cli_guard.Terminated": "SIGTERM raised in the main thread so cleanup runs (a BaseException, like "
                                   "KeyboardInterrupt)",
    "crmml.persistence._ubj._Bad": "internal signal of the UBJSON parser; check_xgboost_model turns it into "
                                   "ModelLoadError",
}

#: file::function -> why a builtin exception is right there (not a user's mistake)
ALLOWED_RAISES = {
    # internal invariants: no user input reaches them
    "_atomic.py::atomic_path": "crmml's own writers always write inside the block",
    "_lazy.py::lazy_exports.__getattr__": "a module __getattr__ must raise AttributeError (hasattr, dir)",
    "_time.py::as_timestamp": "OverflowError caught a few lines below and re-raised as AsOfError",
    "clv/_base.py::BaseCLVFitter._init_params": "abstract method",
    "clv/_base.py::BaseCLVFitter._loglik_grad": "abstract method",
    "features/_build.py::compute_features.store": "registry bug guard: compute_features runs crmml's own families",
    "churn/_model.py::ChurnModel._uses_baseline": "a file with chosen_ = baseline and no baseline_ is refused at "
                                                 "load by check_churn_model",
    "persistence/_ubj.py::parse_ubj": "loader-only: its one caller, check_xgboost_model, raises ModelLoadError",
}

#: fitted-state checks reached only through ``_check_loaded_state`` (the loader wraps their errors in
#: ``ModelLoadError``); test_loader_only_helpers_are_only_reached_from_the_loader checks every call site
LOADER_ONLY = {
    "_utils/_state.py": ("check_codes", "check_covariance", "check_csr", "check_finite", "check_length",
                         "check_linear", "check_positive_params", "check_str_list", "check_type", "fitted_attrs"),
    "_utils/_calibration.py": ("check_calibrator",),
    "churn/_loaded.py": ("check_categories", "check_churn_model", "check_cox"),
    "clv/_loaded.py": ("check_clv_model", "check_feature_clv_model", "check_fitter", "check_timestamp"),
    "decisions/_uplift_shift.py": ("check_shift_models",),
    "recommend/_baselines.py": ("_check_frame", "_check_popular"),
    "scoring/_loaded.py": ("check_calibrated_model", "check_lead_encoder", "check_lead_scorer"),
}
#: callers of a loader-only helper outside the loader that catch its error (file::function: why)
CATCHING_CALLERS = {
    "clv/_base.py::_is_covariance": "fit's test of the same rule: catches ValueError and returns False",
}
_LOADER_NAMES = {n for names in LOADER_ONLY.values() for n in names} | {
    "_check_loaded_state", "check_recency_frequency"}


def _functions(tree):
    """(qualified name of the enclosing function, node) for every node of ``tree``."""
    def walk(node, qual):
        for child in ast.iter_child_nodes(node):
            q = qual
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = f"{qual}.{child.name}" if qual else child.name
            yield q, child
            yield from walk(child, q)
    yield from walk(tree, "")


def _sources(root=SRC):
    for path in sorted(root.rglob("*.py")):
        yield path.relative_to(root).as_posix(), ast.parse(path.read_text())


def _builtin_raises(root=SRC):
    for rel, tree in _sources(root):
        for qual, node in _functions(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if isinstance(exc, ast.Name) and exc.id in BUILTIN_EXCEPTIONS:
                    yield rel, qual, exc.id, node.lineno


def _allowed(rel, qual):
    if f"{rel}::{qual}" in ALLOWED_RAISES or qual.rsplit(".", 1)[-1] == "_check_loaded_state":
        return True
    return any(rel == f and qual in names for f, names in LOADER_ONLY.items())


def _unlisted(found):
    return [f"{rel}:{line} {qual}: raise {name}" for rel, qual, name, line in found if not _allowed(rel, qual)]


def _crmml_modules():
    for info in pkgutil.walk_packages(crmml.__path__, "crmml."):
        yield importlib.import_module(info.name)


def test_every_crmml_exception_is_a_crmml_error_and_every_warning_a_crmml_warning():
    bad = []
    for mod in _crmml_modules():
        for cls in vars(mod).values():
            if not (inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__.startswith("crmml")):
                continue
            name = f"{cls.__module__}.{cls.__qualname__}"
            if name in NOT_USER_ERRORS:
                continue
            base = CrmmlWarning if issubclass(cls, Warning) else CrmmlError
            if not issubclass(cls, base):
                bad.append(f"{name} (subclass {base.__name__})")
    assert not bad, f"crmml exception classes outside the family: {sorted(set(bad))}"


def test_the_crmml_errors_keep_their_builtin_bases():
    from crmml.exceptions import DataError, NoHistoryError, ParameterError
    from crmml.persistence import ModelLoadError, SavePathError
    from crmml.schema import AsOfError, SchemaError

    for cls in (DataError, NoHistoryError, ParameterError, ModelLoadError, SchemaError, AsOfError, crmml.RuleError):
        assert issubclass(cls, ValueError) and issubclass(cls, CrmmlError), cls
    assert issubclass(ParameterError, TypeError)
    assert issubclass(SavePathError, FileExistsError)
    assert crmml.CrmmlError is CrmmlError and crmml.CrmmlWarning is CrmmlWarning


def test_no_plain_builtin_raise_outside_the_allowlist():
    """A new ``raise ValueError(...)`` on a user-facing path fails here: raise the named crmml error instead
    (ParameterError, SchemaError, DataError, NoHistoryError, RuleError, ...), or, for an internal invariant,
    add the function to ALLOWED_RAISES with the reason."""
    found = list(_builtin_raises())
    assert len(found) > 50      # the scan sees the loader's checks: it works
    unlisted = _unlisted(found)
    assert not unlisted, "plain builtin raises on user-facing paths:\n" + "\n".join(unlisted)
    used = {f"{rel}::{qual}" for rel, qual, _, _ in found}
    assert not set(ALLOWED_RAISES) - used, f"stale allowlist entries: {sorted(set(ALLOWED_RAISES) - used)}"


def test_the_scan_sees_a_new_plain_raise(tmp_path):
    (tmp_path / "clv").mkdir()
    (tmp_path / "clv" / "_new.py").write_text(
        "def fit(x):\n    if x < 0:\n        raise ValueError('x must be >= 0')\n    raise TypeError\n")
    assert _unlisted(_builtin_raises(tmp_path)) == ["clv/_new.py:3 fit: raise ValueError",
                                                    "clv/_new.py:4 fit: raise TypeError"]


def test_loader_only_helpers_are_only_reached_from_the_loader():
    """The helpers allowed to raise builtin errors are called only from ``_check_loaded_state`` (which only
    ``crmml.persistence.load`` calls, inside ``except Exception -> ModelLoadError``) or from one another."""
    bad = []
    for rel, tree in _sources():
        for qual, node in _functions(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name == "_check_loaded_state":
                if rel != "persistence/_reader.py" and not qual.endswith("._check_loaded_state"):
                    bad.append(f"{rel} {qual} calls _check_loaded_state")
            elif isinstance(func, ast.Name) and name in _LOADER_NAMES:
                caller = qual.rsplit(".", 1)[-1]
                if caller not in _LOADER_NAMES and f"{rel}::{qual}" not in CATCHING_CALLERS:
                    bad.append(f"{rel} {qual} calls {name}")
    assert not bad, "loader-only checks reached from user-facing code (raise named errors there):\n" + "\n".join(bad)


# -- representative user mistakes ---------------------------------------------------------------------------


def _tx():
    return pd.DataFrame({"customer_id": [1, 1, 2, 3], "timestamp": ["2024-01-02", "2024-02-05", "2024-01-20",
                                                                    "2024-02-10"],
                         "amount": [5.0, 3.0, 4.0, 8.0], "product_id": ["a", "b", "a", "c"]})


def _bad_parameter():
    from crmml.clv import CLVModel

    CLVModel(purchase_model=object()).fit(_tx(), "2024-03-01")


def _frame_without_a_column():
    from crmml.segmentation import RFMSegmenter

    RFMSegmenter().fit(pd.DataFrame({"recency": [1.0], "frequency": [2.0]}))


def _nothing_before_as_of():
    from crmml.recommend import NextBestOffer

    NextBestOffer().fit(_tx(), as_of="2024-01-01")


def _unknown_arm():
    from crmml.decisions import UpliftModel

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200)})
    t = np.where(rng.random(200) < 0.5, "email", "control")
    y = (rng.random(200) < 0.3).astype(int)
    UpliftModel(n_estimators=5).fit(X, t, y, control="control").recommend(X, value=1.0, cost={"email": 0.1, "sms": 0.1})


def _bad_rule():
    from crmml.segmentation import RuleSegmenter

    X = pd.DataFrame({"a": [1.0, 2.0]})
    RuleSegmenter(rules={"big": lambda df: np.ones(3, dtype=bool)}).fit(X).transform(X)


def _too_few_customers():
    from crmml.segmentation import CustomerClusterer

    CustomerClusterer(n_clusters=4).fit(pd.DataFrame({"recency": [1.0, 5.0, 9.0]}, index=[1, 2, 3]))


@pytest.mark.parametrize("mistake, error, fix", [
    (_bad_parameter, "ParameterError", r"The 'purchase_model' parameter of CLVModel must be"),
    (_frame_without_a_column, "DataError", r"lacks columns \['monetary'\].*Build it with rfm_table"),
    (_nothing_before_as_of, "NoHistoryError", r"no purchases before as_of=2024-01-01"),
    (_unknown_arm, "ParameterError", r"cost must have one entry per treatment arm \[.email.\].*\[.sms.\] are not arms"),
    (_bad_rule, "RuleError", r"rule 0 'big' must give one boolean per customer"),
    (_too_few_customers, "DataError", r"needs more customers than clusters; got 3 customers"),
])
def test_user_mistakes_raise_a_named_crmml_error_that_is_a_value_error(mistake, error, fix):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CrmmlError, match=fix) as caught:
            mistake()
    assert type(caught.value).__name__ == error
    assert isinstance(caught.value, ValueError)
