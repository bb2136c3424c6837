"""Start-up cost: importing crmml and its subpackages imports no heavy library until a name is used."""

import subprocess
import sys

import pytest

import crmml

HEAVY = ("sklearn", "xgboost", "matplotlib", "scipy", "shap", "lifetimes")
SUBPACKAGES = ("features", "segmentation", "scoring", "churn", "clv", "recommend", "evaluation", "datasets",
               "decisions", "persistence", "spark")                       # spark last: SUBPACKAGES[:-1] below


def _imported_after(code: str) -> set:
    """Top-level modules in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_subpackages_imports_no_heavy_library():
    loaded = _imported_after("; ".join(f"import crmml.{name}" for name in SUBPACKAGES))
    assert not loaded & set(HEAVY + ("pandas", "pyspark")), loaded & set(HEAVY + ("pandas", "pyspark"))


def test_feature_factory_and_model_loading_skip_sklearn_xgboost_matplotlib():
    loaded = _imported_after("from crmml.features import build_features, feature_catalog\n"
                             "from crmml.schema import validate_transactions\n"
                             "from crmml.persistence import load, save, read_metadata\n"
                             "from crmml.clv import summarize")
    assert "pandas" in loaded  # the probe really imported the modules
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_loading_a_model_imports_only_its_libraries(tmp_path):
    """An allowlisted scikit-learn class is resolved without importing xgboost or the other listed modules."""
    from sklearn.preprocessing import StandardScaler

    from crmml.persistence import save

    path = save(StandardScaler().fit([[0.0], [1.0]]), tmp_path / "m.zip")
    loaded = _imported_after(f"from crmml.persistence import load\nload({str(path)!r})")
    assert "sklearn" in loaded
    assert not loaded & {"xgboost", "matplotlib", "shap", "lifetimes"}, loaded


@pytest.mark.parametrize("name", SUBPACKAGES[:-1])
def test_public_names_still_importable(name):
    module = getattr(crmml, name)
    for public in module.__all__:
        assert getattr(module, public) is not None
        assert public in dir(module)
    with pytest.raises(AttributeError, match="has no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018


def test_top_level_errors_resolve_lazily():
    from crmml import RuleError, SchemaError
    from crmml._expression import RuleError as rule_error
    from crmml.schema import SchemaError as schema_error

    assert RuleError is rule_error and SchemaError is schema_error
    with pytest.raises(AttributeError, match="module 'crmml' has no attribute 'nope'"):
        crmml.nope  # noqa: B018


def test_every_subpackage_is_checked():
    from pathlib import Path

    root = Path(crmml.__file__).parent
    found = {p.parent.name for p in root.glob("*/__init__.py") if not p.parent.name.startswith("_")}
    assert found == set(SUBPACKAGES), found ^ set(SUBPACKAGES)
