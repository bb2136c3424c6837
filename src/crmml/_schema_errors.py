"""How the standard schema reports bad input: :class:`SchemaError` and the few example values it quotes.

Public as :class:`crmml.schema.SchemaError` (tracebacks and pickles name it there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.exceptions import CrmmlError


class SchemaError(ValueError, CrmmlError):
    """Input data does not fit the crmml standard schema.

    Attributes
    ----------
    frame : str
        Which frame ("transactions", "customers", ...).
    column : str or None
        The offending canonical column.
    n_rows : int
        How many rows show the problem (0 for frame-level problems).
    examples : list
        A few offending values.

    >>> import pandas as pd
    >>> validate_transactions(pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": ["x"]}))
    Traceback (most recent call last):
    crmml.schema.SchemaError: transactions.amount: non-numeric values (1 row; e.g. 'x')
    """

    def __init__(self, frame, column, problem, n_rows=0, examples=()):
        self.frame, self.column, self.problem = frame, column, problem
        self.n_rows, self.examples = int(n_rows), list(examples)
        where = f"{frame}.{column}" if column else frame
        msg = f"{where}: {problem}"
        if n_rows:
            msg += f" ({n_rows} row{'s' if n_rows != 1 else ''}"
            if self.examples:
                msg += f"; e.g. {', '.join(repr(_plain(v)) for v in self.examples)}"
            msg += ")"
        super().__init__(msg)


# its public home, the name tracebacks show (so its doctest runs with crmml.schema's names)
SchemaError.__module__ = "crmml.schema"


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


_N_EXAMPLES = 3


def _examples(values: pd.Series) -> list:
    return values.drop_duplicates().head(_N_EXAMPLES).tolist()

