"""Numeric columns at scoring time: text and infinities are refused by name, never turned into NaN.

Also :func:`float_vector` (a parameter that must be one number per row) and :data:`trapezoid`, numpy's
trapezoidal rule under the name it has on every supported numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.schema import SchemaError

#: ``np.trapezoid`` (numpy >= 2.0), or ``np.trapz`` on numpy 1.26 (pyproject's lower bound), which lacks it
trapezoid = getattr(np, "trapezoid", None) or np.trapz


def numeric_values(values, frame: str, column: str) -> np.ndarray:
    """Float array of a column that was numeric when a model was fitted.

    Missing values stay NaN (models handle them); numbers stored as text (``"12.5"``) are
    converted; any other text and any infinity raise :class:`crmml.SchemaError` naming the
    frame, the column, how many rows and a few example values.

    Parameters
    ----------
    values : Series or array-like
    frame, column : str
        Names used in the error message.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_values(pd.Series([1, None, "2.5"]), "leads", "employees")
    array([1. , nan, 2.5])
    >>> numeric_values(pd.Series([1.0, "n/a", "unknown"]), "leads", "employees")
    Traceback (most recent call last):
    ...
    crmml.schema.SchemaError: leads.employees: text values in a numeric column (it was numeric when the model was fitted); replace them by numbers or leave them empty (missing) (2 rows; e.g. 'n/a', 'unknown')
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        out = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        num = pd.to_numeric(s.astype(object), errors="coerce")
        text = (num.isna() & s.notna()).to_numpy()
        if text.any():
            ex = pd.unique(s[text].astype(str))[:3].tolist()
            raise SchemaError(frame, column, "text values in a numeric column (it was numeric when the model "
                              "was fitted); replace them by numbers or leave them empty (missing)",
                              n_rows=int(text.sum()), examples=ex)
        out = num.to_numpy(dtype="float64", na_value=np.nan)
    inf = np.isinf(out)
    if inf.any():
        raise SchemaError(frame, column, "infinite values in a numeric column; replace them by finite numbers or "
                          "leave them empty (missing)", n_rows=int(inf.sum()), examples=out[inf][:3].tolist())
    return out


def float_vector(values, name: str, owner: str | None = None) -> np.ndarray:
    """``values`` as a flat float64 array, or :class:`crmml.exceptions.ParameterError` naming ``name``.

    The one rule for a metric's or a curve's per-row numbers (``y_true``, ``y_score``, an uplift ``y``): text is
    refused (numpy's bare "could not convert string to float" otherwise), and so is a 2-D table; a column vector
    (shape ``(n, 1)``) counts as 1-D. NaN and infinities pass: each caller says what it accepts.

    >>> float_vector([[1], [0.5]], "y_score")
    array([1. , 0.5])
    >>> float_vector(["a", 1], "y", "qini_curve")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: qini_curve: y must hold numbers (could not convert string to float: 'a').
    """
    from crmml.exceptions import ParameterError

    where = f"{owner}: {name}" if owner else name
    try:
        out = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{where} must hold numbers ({exc}).") from None
    if sum(d > 1 for d in out.shape) > 1:
        raise ParameterError(f"{where} must be one-dimensional (one value per row); got shape {out.shape}.")
    return out.ravel()


def check_weights(values, name: str, owner: str, *, n: int | None = None, negative: bool = False,
                  missing: bool = False) -> np.ndarray:
    """Float array of a weight parameter (``sample_weight``, ``customer_weights``), or a named error.

    Refused with :class:`crmml.exceptions.ParameterError` naming the parameter: text, infinities, a length other
    than ``n``, negative values (unless ``negative``) and NaN (unless ``missing``).

    >>> check_weights([1, 2.5], "sample_weight", "BetaGeoModel.fit", n=2)
    array([1. , 2.5])
    >>> check_weights([1, -2], "sample_weight", "BetaGeoModel.fit", n=2)
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'sample_weight' parameter of BetaGeoModel.fit must hold finite numbers >= 0; 1 value is not (e.g. -2.0).
    """
    from crmml.exceptions import ParameterError

    where = f"The {name!r} parameter of {owner}"
    raw = np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values, dtype=object).ravel()
    num = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    text = np.isnan(num) & ~pd.isna(raw)
    if text.any():
        raise ParameterError(f"{where} must hold numbers; {int(text.sum())} value{'s are' if text.sum() > 1 else ' is'}"
                             f" not (e.g. {pd.unique(raw[text])[:3].tolist()}).")
    if n is not None and len(num) != n:
        raise ParameterError(f"{where} has {len(num)} values but there are {n} rows; pass one weight per row.")
    bad = np.isinf(num) | (~np.isnan(num) & (num < 0) & (not negative)) | (np.isnan(num) & (not missing))
    if bad.any():
        rule = "finite numbers" + ("" if negative else " >= 0")
        raise ParameterError(f"{where} must hold {rule}; {int(bad.sum())} value{'s are' if bad.sum() > 1 else ' is'} "
                             f"not (e.g. {', '.join(map(str, pd.unique(num[bad])[:3].tolist()))}).")
    return num
