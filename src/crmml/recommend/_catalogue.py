"""The item catalogue: ids, eligibility, value, category and readable names per product."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml.exceptions import DataError, DroppedCustomersWarning, ParameterError
from crmml.schema import validate_products


def _mode_per_product(tx: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent non-null value of ``column`` per product."""
    vc = tx[["product_id", column]].dropna().value_counts(sort=True)
    first = vc.reset_index().drop_duplicates("product_id")
    return first.set_index("product_id")[column]


def warn_unofferable(products, eligible, value_column, owner: str = "NextBestOffer.fit") -> None:
    """Warn with counts about listed products that are never offered because a value they need is missing.

    A missing eligibility flag counts as not eligible and a missing ``value_column`` as no value: both are never
    offered. ``products`` is the frame given to ``fit`` (after the column mapping).
    """
    if products is None:
        return
    cols = [eligible] if isinstance(eligible, str) else list(eligible or [])
    parts = [f"{int(n):,} have no {c!r} (a missing eligibility flag counts as not eligible)"
             for c in cols if c in products.columns and (n := products[c].isna().sum())]
    if value_column is not None and value_column in products.columns and (n := products[value_column].isna().sum()):
        parts.append(f"{int(n):,} have no {value_column!r} (value_column: they cannot be valued)")
    if parts:
        warnings.warn(f"{owner}: of the {len(products):,} listed products, {'; '.join(parts)}; they are never "
                      "offered. Fill the missing values to offer them.", DroppedCustomersWarning, stacklevel=3)


def catalogue(tx: pd.DataFrame, products, *, eligible=None, value_column=None, need_category=False) -> dict:
    """Per-item arrays aligned with ``items`` (the products seen in ``tx``, then any only in ``products``)."""
    if products is not None:
        products = validate_products(products)
    ids = tx_items = pd.unique(tx["product_id"])             # the products seen in tx, in order of appearance
    if products is not None:
        ids = pd.concat([pd.Series(tx_items), products["product_id"]], ignore_index=True)
    items = pd.Index(pd.unique(ids), name="product_id")
    n = len(items)
    prod = products.set_index("product_id") if products is not None else None

    ok = np.ones(n, dtype=bool)
    cols = [eligible] if isinstance(eligible, str) else list(eligible or [])
    if cols and prod is None:
        raise ParameterError("The 'eligible' parameter of NextBestOffer needs a products frame in fit.")
    if prod is not None:
        ok &= items.isin(prod.index)
        n_tx = len(tx_items)
        if n_tx and not ok[:n_tx].any():      # items seen in tx come first: none of them may be offered
            raise DataError(f"None of the {n_tx} products in the transactions is listed in the products frame "
                            f"(transactions e.g. {items[:3].tolist()}, products frame e.g. "
                            f"{prod.index[:3].tolist()}); only listed products are offered, so nothing could be "
                            "recommended. Check that both use the same product ids.")
        for col in cols:
            if col not in prod.columns:
                raise ParameterError(f"The eligibility column {col!r} is not in the products frame; "
                                     f"got columns {list(prod.columns)}.")
            flag = prod[col]
            if not (pd.api.types.is_bool_dtype(flag) or set(pd.unique(flag.dropna())) <= {0, 1}):
                raise DataError(f"The eligibility column {col!r} must be boolean (True = may be offered).")
            ok &= flag.reindex(items).eq(True).fillna(False).to_numpy(dtype=bool)   # missing = not eligible

    value = np.full(n, np.nan)
    if value_column is not None:
        if prod is None or value_column not in prod.columns:
            raise ParameterError(f"The 'value_column' parameter of NextBestOffer names {value_column!r}, "
                                 f"which must be a numeric column of the products frame passed to fit.")
        v = pd.to_numeric(prod[value_column], errors="coerce")
        text = v.isna() & prod[value_column].notna()
        if text.any():
            raise DataError(f"The value column {value_column!r} must be numeric; got {int(text.sum())} non-numeric "
                            f"values, e.g. {prod.loc[text, value_column].head(3).tolist()}.")
        if (v < 0).any():
            raise DataError(f"The value column {value_column!r} must be >= 0; got {int((v < 0).sum())} "
                            f"negative values, e.g. {v[v < 0].head(3).tolist()}.")
        value = v.reindex(items).to_numpy(dtype=float)
        ok &= ~np.isnan(value)  # a product without a value cannot be valued: not offered

    def attribute(column):
        """A product attribute from the products frame, else its most common value in the transactions."""
        if prod is not None and column in prod.columns:
            return prod[column].reindex(items)
        if column in tx.columns:
            return _mode_per_product(tx, column).reindex(items)
        return pd.Series([None] * n, index=items, dtype=object)

    cat = attribute("category")
    if need_category and cat.isna().all():
        raise ParameterError("The 'max_per_category' parameter of NextBestOffer needs a 'category' column "
                             "in the products frame or in the transactions.")
    codes, categories = pd.factorize(cat.astype(object), sort=True)

    desc = attribute("description")
    desc = desc.astype(object).where(desc.notna(), pd.Series(items.astype(str), index=items))
    descriptions = np.array([str(d).strip() for d in desc], dtype=str)
    return {"items": items, "eligible": ok, "value": value, "category_codes": codes.astype(np.int64),
            "categories": [str(c) for c in categories], "descriptions": descriptions}
