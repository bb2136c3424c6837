"""BLAS on one thread, for crmml's small dense products (a few parameters or a few hundred columns).

With that few columns, BLAS threads gain nothing; on a busy machine their spin-waiting makes a fit several times
slower (a LeadScorer fit on 50,000 leads: 3.5 s on one thread, 10 s on two of a loaded 2-core machine); and a
product split among threads rounds differently, so results would move in the 15th digit with the core count.
"""

from __future__ import annotations


def one_blas_thread():
    """A context manager under which BLAS (OpenBLAS, MKL, ...) runs on one thread.

    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.ones(3) @ np.ones(3))
    3.0
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
