"""The house style of every marksell chart: one palette, labelled axes with units, no offset notation.

Each analysis draws its charts in its own ``plots.py``; they all start from :func:`figure` (which applies the
style), label axes with :func:`label_axis` (formatters for money, counts and percentages instead of ``1e6``
offsets), place point labels with :func:`place_labels` (no overlaps), and notebooks show them with
:func:`show`, which attaches a caption that the HTML report uses as the figure's alt text and caption.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, PercentFormatter

from marksell.reporting import numbers

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies, print well in grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
GOOD, BAD, NEUTRAL = "#009E73", "#D55E00", "#8C959F"

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.formatter.useoffset": False,
    "axes.formatter.use_locale": False,
    "axes.formatter.limits": (-6, 9),
}


def use_style() -> None:
    """Apply the house style to every chart drawn afterwards in this process."""
    mpl.rcParams.update(STYLE)


def figure(*args, **kwargs):
    """``plt.subplots`` in the house style (same arguments)."""
    use_style()
    return plt.subplots(*args, **kwargs)


def money_formatter(currency: str = "") -> FuncFormatter:
    """Tick labels such as "€1.2 m", "350 k" (no scientific offset)."""
    return FuncFormatter(lambda v, _: numbers.with_currency(numbers.compact(v, 1), currency))


def count_formatter() -> FuncFormatter:
    """Tick labels with thousands separators or k/m suffixes."""
    return FuncFormatter(lambda v, _: numbers.compact(v, 1))


def label_axis(ax, axis: str, text: str, *, unit: str = "", kind: str = "", currency: str = "", share_max: float = 1.0) -> None:
    """Label ``ax``'s ``axis`` ("x" or "y") as "text (unit)" and format its ticks by ``kind``.

    ``kind``: "money", "count", "share" (values 0..share_max shown as %), "percent" (values already in %), or
    "" to keep the default numbers (offsets are off in the house style).
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    shown_unit = unit or (currency if kind == "money" else "")
    target.set_label_text(f"{text} ({shown_unit})" if shown_unit else text)
    if kind == "money":
        target.set_major_formatter(money_formatter(""))
    elif kind == "count":
        target.set_major_formatter(count_formatter())
    elif kind == "share":
        target.set_major_formatter(PercentFormatter(xmax=share_max, decimals=0))
    elif kind == "percent":
        target.set_major_formatter(PercentFormatter(xmax=100, decimals=0))


def place_labels(ax, xs, ys, texts, **text_kwargs) -> list:
    """Write ``texts`` at the points and move them apart so that none overlaps (adjustText)."""
    from adjustText import adjust_text

    labels = [ax.text(x, y, str(t), fontsize=text_kwargs.pop("fontsize", 8), **text_kwargs) for x, y, t in zip(xs, ys, texts)]
    if len(labels) > 1:
        adjust_text(labels, ax=ax, arrowprops={"arrowstyle": "-", "color": NEUTRAL, "lw": 0.5})
    return labels


def show(fig, caption: str) -> None:
    """Display ``fig`` with ``caption`` as its alt text and report caption, then close it."""
    from IPython.display import display

    display(fig, metadata={"image/png": {"alt": caption}})
    plt.close(fig)
