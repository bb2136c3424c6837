"""Names drawn in crmml's plots are plain text, never matplotlib mathtext.

matplotlib reads any text with two ``$`` as mathtext: a segment named ``"$10-$50 buyers"`` is drawn as a formula
and one named ``"$^$"`` makes ``savefig`` raise. The names crmml draws come from the user's data and model files
(segment, cluster, feature, column and series names, labels), so every plot function passes what it returns
through :func:`literal_text`, and the HTML reports pass every figure through it before drawing.

How it holds when the figure is drawn later, outside any ``rc_context``: ``parse_math`` is a property of each
:class:`~matplotlib.text.Text`, kept until the text is deleted. Titles, axis labels, legend entries, annotations
and table cells are made once. Tick labels are recreated only when matplotlib needs more ticks than it has made
(a fresh tick takes ``parse_math`` from rcParams, not from its neighbours); ticks labelled with names (set with
``set_xticks(positions, labels)`` or ``set_xticklabels``, or a categorical axis) sit at fixed positions, so all of
them are made here before they are set to plain text. The tick labels and the offset text of matplotlib's number
and date formatters are left as they are: they are matplotlib's own, not names, and the log-scale ones
(``$\\mathdefault{10^{2}}$``) are mathtext on purpose.
"""

from __future__ import annotations

import numpy as np

__all__ = ["figure_of", "literal_text"]


def figure_of(obj):
    """The matplotlib Figure of a Figure, an Axes (or display object with ``.figure``) or an array of Axes."""
    if hasattr(obj, "savefig"):
        return obj
    if isinstance(obj, (np.ndarray, list, tuple)):
        return figure_of(np.asarray(obj, dtype=object).ravel()[0])
    return obj.figure


def _axes_of(obj) -> list:
    """The Axes whose text is made literal: all of a Figure's (its subfigures' too); of Axes, each with the colour
    bars of its images."""
    if hasattr(obj, "savefig"):
        from matplotlib.axes import Axes

        return obj.findobj(Axes)
    if isinstance(obj, (np.ndarray, list, tuple)):
        return [a for o in np.asarray(obj, dtype=object).ravel() for a in _axes_of(o)]
    out = [obj]
    for mappable in [*obj.images, *obj.collections]:
        colorbar = getattr(mappable, "colorbar", None)
        if colorbar is not None:
            out.append(colorbar.ax)
    return out


def literal_text(obj):
    """Draw every name in ``obj`` (a Figure, an Axes or an array of Axes) as written; return ``obj``.

    Every :class:`~matplotlib.text.Text` of the Axes (titles, axis labels, legends, annotations, table cells,
    tick labels given as names) is set to plain text (``set_parse_math(False)``); the tick labels of number and
    date formatters keep matplotlib's own rendering. A Figure covers all its Axes (and its own texts); an Axes
    covers itself and the colorbars of its images.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> ax.set_xticks([0, 1], ["$10-$50", "$^$"])      # doctest: +ELLIPSIS
    [...]
    >>> [(t.get_text(), t.get_parse_math()) for t in literal_text(ax).get_xticklabels()]
    [('$10-$50', False), ('$^$', False)]
    """
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    # formatters of names: set_xticks(positions, labels) and set_xticklabels (a FuncFormatter over the labels on
    # a fixed locator, a FixedFormatter on any other), a categorical axis; the rest format numbers and dates
    names = (FixedFormatter, FuncFormatter, StrCategoryFormatter)
    axes = _axes_of(obj)
    keep = set()                                   # texts of number/date formatters: matplotlib's, not names
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None:
                continue
            for ticks, formatter in ((axis.get_major_ticks(), axis.get_major_formatter()),
                                     (axis.get_minor_ticks(), axis.get_minor_formatter())):
                if not isinstance(formatter, names):
                    keep.update(id(t) for tick in ticks for t in (tick.label1, tick.label2))
            if not isinstance(axis.get_major_formatter(), names):
                keep.add(id(axis.offsetText))
    texts = [t for ax in axes for t in ax.findobj(Text)]
    texts += [cell.get_text() for ax in axes for table in ax.tables for cell in table.get_celld().values()]
    if hasattr(obj, "savefig"):
        texts += obj.findobj(Text, include_self=False)
    for text in texts:
        if id(text) not in keep:
            text.set_parse_math(False)
    return obj
