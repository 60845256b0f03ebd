"""The house chart style: units on axes, no offset notation, labels that do not overlap, captions for the HTML."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from marksell import plots  # noqa: E402


def test_money_and_count_ticks_have_no_offset_and_read_as_words():
    assert plots.money_formatter("€")(1_234_567, 0) == "€1.2 m"
    assert plots.money_formatter("EUR")(350_000, 0) == "EUR 350 k"
    assert plots.money_formatter("")(-2_000_000_000, 0) == "-2 bn"
    assert plots.count_formatter()(12_500, 0) == "12.5 k"
    assert plots.count_formatter()(2.5, 0) == "2.50" and plots.count_formatter()(40.0, 0) == "40"


def test_label_axis_names_the_unit_and_formats_ticks():
    fig, ax = plots.figure()
    ax.plot([0, 1, 2], [1e6, 2e6, 3e6])
    plots.label_axis(ax, "y", "Sales", kind="money", currency="€")
    plots.label_axis(ax, "x", "Share of spend", kind="share")
    fig.canvas.draw()
    assert ax.get_ylabel() == "Sales (€)" and ax.get_xlabel() == "Share of spend"
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert all("e" not in t.get_text() for t in ax.get_yticklabels())
    assert ax.xaxis.get_major_formatter()(0.5, 0) == "50%"
    plt.close(fig)


def test_placed_labels_do_not_overlap():
    fig, ax = plots.figure(figsize=(4, 3))
    xs, ys = [1.0, 1.01, 1.02, 1.03], [1.0, 1.0, 1.01, 1.0]
    ax.scatter(xs, ys)
    labels = plots.place_labels(ax, xs, ys, ["first label", "second label", "third label", "fourth label"])
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in labels]
    overlaps = [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
    assert not overlaps
    plt.close(fig)


def test_show_attaches_the_caption_for_the_report(monkeypatch):
    seen = {}
    monkeypatch.setattr("IPython.display.display", lambda obj, metadata=None: seen.update(obj=obj, md=metadata))
    fig, _ = plots.figure()
    plots.show(fig, "Revenue by month")
    assert seen["obj"] is fig and seen["md"] == {"image/png": {"alt": "Revenue by month"}}
    assert not plt.fignum_exists(fig.number)


@pytest.mark.parametrize("kind", ["percent", "count"])
def test_label_axis_kinds(kind):
    fig, ax = plots.figure()
    plots.label_axis(ax, "y", "Growth", unit="% a year" if kind == "percent" else "", kind=kind)
    assert ax.get_ylabel() == ("Growth (% a year)" if kind == "percent" else "Growth")
    plt.close(fig)
