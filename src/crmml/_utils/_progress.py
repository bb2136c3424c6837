"""Progress bars (tqdm, on stderr) over crmml's long loops and the stages of long fits, when ``verbose`` is true.

A bar opened while another is open (a model's fit inside a backtest's loop over cutoffs) is drawn below it and
removed when it ends (tqdm's ``leave=None``); the outermost bar stays. With ``verbose`` false nothing is imported
or written. Results never depend on ``verbose``: the bars only watch the loops.
"""

from __future__ import annotations

from contextlib import contextmanager


def progress(iterable, *, verbose: bool = False, desc: str | None = None, total: int | None = None):
    """Wrap ``iterable`` in a tqdm progress bar when ``verbose`` is true.

    >>> list(progress(range(3)))
    [0, 1, 2]
    """
    if not verbose:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=None)


def _quiet(name: str, total: int | None = None) -> None:
    """The ``step`` of :func:`steps` when not verbose: does nothing."""


@contextmanager
def steps(total: int, *, verbose: bool = False, desc: str | None = None):
    """A bar over the ``total`` stages of a long computation; yields ``step(name)``, called as each stage starts.

    ``step`` counts the stage before it as done and shows ``name`` beside the bar; ``step(name, total=n)``
    sets the number of stages once the computation knows it (after checking its input). A stage beyond the
    total widens the bar; leaving the block without an error fills it (stages skipped on the way, such as a
    forward fold whose training rows have a single class).

    >>> with steps(2, desc="fit") as step:
    ...     step("first stage")
    ...     step("second stage")
    """
    if not verbose:
        yield _quiet
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=None)
    started = False

    def step(name: str, total: int | None = None) -> None:
        nonlocal started
        if started:
            bar.update(1)
        if total is not None:
            bar.total = max(int(total), bar.n + 1)
        elif bar.n >= bar.total:
            bar.total = bar.n + 1
        started = True
        bar.set_postfix_str(name)

    try:
        yield step
        bar.update(bar.total - bar.n)
    finally:
        bar.close()
