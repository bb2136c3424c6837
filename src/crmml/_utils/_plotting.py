"""The Axes a crmml plot function draws on: the caller's ``ax=``, or a new figure's when it is None.

matplotlib is imported inside the function, so importing a plot module stays light.
"""

from __future__ import annotations

__all__ = ["axes_or_new"]


def axes_or_new(ax, figsize, *, pyplot: bool = False):
    """``ax`` when given, else the Axes of a new figure ``figsize`` inches wide and high.

    The new figure is a constrained-layout :class:`~matplotlib.figure.Figure` that pyplot does not manage (the
    evaluation plots and the reports'), or with ``pyplot=True`` one made by ``plt.subplots`` (pyplot's current
    figure, shown by ``plt.show()`` and by notebooks: the segmentation, CLV and lead-scoring plots).

    >>> ax = axes_or_new(None, (5.0, 4.0))
    >>> ax.figure.get_size_inches().tolist(), ax.figure.get_layout_engine() is not None
    ([5.0, 4.0], True)
    >>> axes_or_new(ax, (1, 1)) is ax
    True
    """
    if ax is not None:
        return ax
    if pyplot:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize)[1]
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").add_subplot()
