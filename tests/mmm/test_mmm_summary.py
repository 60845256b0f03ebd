"""Artifacts and words: the issue's columns, components that add up, findings written from the results."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from marksell import mmm
from marksell.mmm import plots


def test_artifact_columns_are_the_issues(mix_run):
    _, _, out = mix_run
    t = out["tables"]
    assert list(t["channels"].columns) == [
        "channel",
        "spend",
        "contribution",
        "share_of_spend",
        "share_of_effect",
        "roas",
        "roas_lo",
        "roas_hi",
        "mroas",
        "mroas_lo",
        "mroas_hi",
        "identified",
        "reason",
    ]
    assert list(t["budget_allocation"].columns) == [
        "channel",
        "current_spend",
        "recommended_spend",
        "change_pct",
        "contribution_current",
        "contribution_recommended",
    ]
    assert list(t["response_curves"].columns) == [
        "channel",
        "spend",
        "response",
        "response_lo",
        "response_hi",
        "mroas",
        "current",
    ]
    assert t["response_curves"].groupby("channel")["current"].sum().eq(1).all()
    assert t["channels"]["share_of_spend"].sum() == pytest.approx(1)
    assert t["channels"]["share_of_effect"].sum() == pytest.approx(1)


def test_decomposition_adds_up_to_the_fit(mix_run):
    fit, _, out = mix_run
    d = out["tables"]["decomposition"]
    parts = d.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    assert np.allclose(parts, d["fitted"]) and np.allclose(d["actual"], fit.series.y)
    assert {"base", "trend", "seasonality", "price_index", "promo", *fit.channels} <= set(d.columns)


def test_summary_json_holds_hyperparameters_accuracy_and_uplift(mix_run):
    fit, plan, out = mix_run
    js = json.loads(json.dumps(out["json"], default=str))
    assert set(js["hyperparameters"]) == set(fit.channels)
    assert {"decay", "half_saturation", "shape", "effect", "today_spend"} <= set(js["hyperparameters"]["email"])
    assert js["accuracy"]["holdout"]["mape"] > 0
    assert js["uplift"]["lo"] <= js["uplift"]["value"] <= js["uplift"]["hi"]
    assert [s["budget_pct"] for s in js["scenarios"]] == [80, 100, 120]
    assert js["budget"]["per_period"] == pytest.approx(plan.budget)


def test_findings_follow_the_results_not_the_sample(mix_sample):
    table, _ = mix_sample
    renamed = table.rename(columns={"spend_email": "spend_newsletter", "sales": "orders"})
    series = mmm.prepare_series(renamed, target="orders", controls=["price_index", "promo"])
    fit = mmm.fit_mix(series, n_bootstrap=10)
    plan = mmm.allocate_budget(fit, gross_margin=0.4)
    text = "\n".join(mmm.summary(fit, plan)["findings"])
    assert "`newsletter`" in text and "email" not in text and "`orders`" in text
    assert "break-even (gross profit pays back above 2.50)" in text and "profit change" in text
    verdict = mmm.summary(fit, plan)["tables"]["verdicts"].set_index("channel")
    assert verdict.loc["newsletter", "verdict"] == "grow" and verdict.loc["display", "verdict"] == "cut"


def test_rule_comparison_lines_up_channels(mix_run):
    _, _, out = mix_run
    cmp = mmm.rule_comparison(out["tables"]["channels"], {"search": 5.0, "unknown": 1.0})
    assert cmp["channel"].tolist() == ["search"]
    assert cmp["rule_vs_model"].iloc[0] == pytest.approx(5.0 / cmp["roas"].iloc[0])


def test_charts_are_drawn(mix_run):
    fit, _, out = mix_run
    t = out["tables"]
    figs = [
        plots.decomposition_figure(t["decomposition"], fit.channels, "sales"),
        plots.response_figure(t["response_curves"], "week"),
        plots.carryover_figure(t["carryover"]),
        plots.share_figure(t["channels"]),
        plots.roas_figure(t["channels"]),
    ]
    assert all(isinstance(f, Figure) and f.axes for f in figs)
    assert sum(ax.get_visible() for ax in figs[1].axes) == len(fit.channels)


def test_display_kinds_say_what_the_names_do_not():
    import pandas as pd

    from marksell.mmm import display_kinds
    from marksell.reporting.tables import table

    acc = pd.DataFrame({"mape": [0.674], "nrmse": [0.04], "r2": [0.985], "n": [13]}, index=["holdout"])
    assert table(acc.rename_axis("sample"), kinds=display_kinds(acc)).frame.iloc[0].tolist() == [
        "holdout",
        "0.7 %",
        "0.040",
        "0.98",
        "13",
    ]
    hyper = pd.DataFrame(
        {"decay": [0.115], "half_saturation": [29822.4], "today_spend": [11130.2]}, index=pd.Index(["search"], name="channel")
    )
    assert table(hyper, kinds=display_kinds(hyper), currency="€").frame.iloc[0].tolist() == [
        "search",
        "11.5 %",
        "€29,822",
        "€11,130",
    ]  # the half-saturation point is a spend


@pytest.mark.parametrize("currency", ["€", ""])
def test_spend_and_revenue_axes_carry_the_currency(mix_run, currency):
    import matplotlib.pyplot as plt
    import numpy as np

    fit, _, out = mix_run
    t = out["tables"]
    assert mmm.outcome_unit("sales", [1.5, 2.0], currency) == currency
    assert mmm.outcome_unit("conversions", [12, 30], currency) == ""  # a count never takes the currency
    # What only the user knows wins over the name: "sales" counted in units, a money outcome named otherwise.
    assert mmm.outcome_unit("sales", [1.5, 2.0], currency, kind="count") == ""
    assert mmm.outcome_unit("kpi_1", [12, 30], currency, kind="money") == currency
    shown = f" ({currency})" if currency else ""
    fig = plots.response_figure(
        t["response_curves"],
        "week",
        currency=currency,
        outcome="sales",
        unit=mmm.outcome_unit("sales", t["decomposition"]["actual"], currency),
    )
    drawn = [ax for ax in fig.axes if ax.get_visible()]
    assert {ax.get_xlabel() for ax in drawn} == {f"spend per week{shown}"}
    assert {ax.get_ylabel() for ax in drawn} == {f"extra sales per week{shown}"}
    fig.canvas.draw()
    ticks = [x.get_text() for x in drawn[0].get_xticklabels() if x.get_text()]
    assert ticks and not any("e+" in x for x in ticks)
    plt.close(fig)
    fig = plots.carryover_figure(t["carryover"], "week")
    fig.canvas.draw()
    assert fig.axes[0].get_ylabel() == "share of the effect"
    assert all(x.get_text().endswith("%") for x in fig.axes[0].get_yticklabels() if x.get_text())
    plt.close(fig)
    assert plots.share_figure(t["channels"]).axes[0].get_ylabel() == "share of all channels (%)"
    plt.close("all")
    fig = plots.decomposition_figure(t["decomposition"], fit.channels, "conversions", unit="")
    assert fig.axes[0].get_ylabel() == "conversions"
    plt.close(fig)
    fig = plots.decomposition_figure(t["decomposition"], fit.channels, "sales", unit=currency)
    assert fig.axes[0].get_ylabel() == f"sales{shown}"
    assert np.isfinite(fig.axes[0].get_ylim()).all()
    assert fig.axes[0].get_ylim()[0] == 0.0  # stacked areas start at zero: their sizes are the contributions
    plt.close(fig)
    shifted = t["decomposition"].assign(base=t["decomposition"]["base"] - 10 * t["decomposition"]["actual"].max())
    fig = plots.decomposition_figure(shifted, fit.channels, "sales", unit=currency)
    assert fig.axes[0].get_ylim()[0] < shifted["base"].min()  # a negative base stays in view
    plt.close(fig)


def test_chart_captions_say_how_to_read_and_count_from_the_run():
    import pandas as pd

    decomp = pd.DataFrame(
        {
            "date": [1, 2],
            "actual": [11.0, 9.0],
            "fitted": [10.0, 10.0],
            "base": [7.0, 8.0],
            "tv": [2.0, 1.0],
            "search": [1.0, 1.0],
        }
    )
    text = mmm.decomposition_caption(decomp, ["tv", "search"], "sales", "week")
    assert text.startswith("sales per week: the black line is the actual outcome;")
    assert text.endswith("Here the 2 channel(s) account for 25% of the modelled sales over 2 weeks.")
    channels = pd.DataFrame(
        {
            "channel": ["a", "b", "c", "d"],
            "identified": [True, True, True, False],
            "mroas": [3.0, 2.6, 0.5, float("nan")],
            "mroas_lo": [2.8, 2.4, 0.3, float("nan")],
            "share_of_spend": [0.2, 0.5, 0.3, 0.0],
            "share_of_effect": [0.5, 0.4, 0.1, 0.0],
        }
    )
    text = mmm.roas_caption(channels, breakeven=2.5)
    assert "the dashed line is break-even (2.50)" in text
    assert text.endswith(
        "Here 1 of 3 measured channel(s) have a marginal return whose whole interval lies above "
        "break-even; 1 channel(s) that cannot be measured are left out."
    )
    no_bands = channels.assign(mroas_lo=float("nan"))
    assert "Here 2 of 3 measured channel(s) have a marginal return above break-even;" in mmm.roas_caption(no_bands, breakeven=2.5)
    assert mmm.share_caption(channels).endswith("Here 1 of 3 channel(s) do.")
    curves = pd.DataFrame({"channel": ["a", "a", "b", "b"], "current": [False, True, True, False], "mroas": [9.0, 3.0, 0.5, 0.1]})
    assert mmm.response_caption(curves, "sales", "week").endswith(
        "Here the return of the next unit of spend at today's spend runs from 0.50 (b) to 3.00 (a)."
    )
    carry = pd.DataFrame({"search": [0.9, 0.1, 0.0], "tv": [0.4, 0.4, 0.2]}).rename_axis("lag")
    assert mmm.carryover_caption(carry, "week").endswith(
        "Here tv spreads its effect most: 40% arrives in the week of the spend, 90% by 2 week(s) after it."
    )


def test_findings_and_brief_write_money_with_the_run_currency(mix_run):
    from marksell.mmm.brief import brief
    from marksell.reporting.numbers import amount, money

    fit, plan, plain = mix_run
    budget, uplift = plan.budget, plan.uplift
    euro = mmm.summary(fit, plan, currency="€", unit="€")
    text = "\n".join(euro["findings"])
    assert (
        f"Re-splitting the same budget ({money(budget, '€')} per week) as recommended adds {money(uplift, '€')} "
        "`sales` per week" in text
    )
    assert re.search(r"per week for €[\d,]+ more spend", text)  # the 120 % scenario
    assert euro["json"]["currency"] == "€" and euro["json"]["outcome_unit"] == "€"
    assert f"adds {amount(uplift, '€')} of sales per week" in " ".join(brief(euro["json"]).answer)
    counts = "\n".join(mmm.summary(fit, plan, currency="€", unit="")["findings"])  # outcome in conversions
    assert f"({money(budget, '€')} per week) as recommended adds {money(uplift)} `sales`" in counts
    none = "\n".join(plain["findings"])  # default: no currency anywhere
    assert "€" not in none and f"({money(budget)} per week)" in none


def test_an_unknown_outcome_kind_says_the_choices_and_the_fix():
    from marksell.errors import ParameterError

    expected = r"outcome_kind must be one of \['auto', 'money', 'count'\], got 'dollars'.*'count' for units"
    with pytest.raises(ParameterError, match=expected):
        mmm.outcome_unit("sales", [1.0], "€", kind="dollars")
