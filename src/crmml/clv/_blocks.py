"""Per-row work in fixed blocks of rows, on a few threads, with a result that does not depend on the schedule.

A likelihood over hundreds of thousands of distinct rows is computed block by block so that the temporaries
(rows x quadrature nodes) stay in the CPU cache, and the blocks are shared among threads: numpy and scipy
release the GIL in their loops. Each block writes only its own rows of preallocated outputs, and the block
boundaries are fixed, so the values are the same bit for bit for any number of threads and any timing; sums
over rows are taken afterwards, over the whole arrays, in one fixed order.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["for_blocks", "n_threads"]

#: rows per block: 2048 rows x 33 nodes x 8 bytes = 0.5 MB per temporary
BLOCK = 2048

#: fewer blocks than this run on the calling thread: below it, starting threads and handing blocks over cost
#: more than they save (CDNOW's 2,121 distinct weekly rows: a Pareto/NBD fit 0.045 s on one thread, 0.082 s on
#: two; 8,685 daily rows: 0.136 s and 0.166 s; 45,271 rows: 0.56 s and 0.53 s)
MIN_THREADED_BLOCKS = 16


def n_threads() -> int:
    """Threads for block work: the usable cores, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def for_blocks(fn, n: int, *, block: int | None = None, threads: int | None = None) -> None:
    """Call ``fn(rows)`` for the consecutive slices ``rows`` of ``range(n)`` of ``block`` rows (default :data:`BLOCK`).

    ``fn`` must write only the rows it is given. With ``threads > 1`` and at least :data:`MIN_THREADED_BLOCKS`
    slices, the slices are shared among that many threads, each under the caller's numpy error state (which is
    per thread); otherwise they run in order on the calling thread.
    """
    block = BLOCK if block is None else int(block)
    slices = [slice(lo, min(lo + block, n)) for lo in range(0, n, block)]
    threads = n_threads() if threads is None else int(threads)
    if threads <= 1 or len(slices) < MIN_THREADED_BLOCKS:
        for rows in slices:
            fn(rows)
        return
    err = np.geterr()
    per_task = max(1, len(slices) // (8 * threads))       # a few tasks per thread: little scheduling overhead
    tasks = [slices[i:i + per_task] for i in range(0, len(slices), per_task)]

    def run(task):
        with np.errstate(**err):
            for rows in task:
                fn(rows)

    with ThreadPoolExecutor(max_workers=min(threads, len(tasks))) as pool:
        for _ in pool.map(run, tasks):     # re-raises the first exception of a block
            pass
