"""Price elasticity on a stranger's panels: no store column, one product, no promotions, no unit cost.

Runs through the ``marksell`` command with only the path, the column mapping and what only the user
knows. Elasticities are planted in the generated panels, so the runs also check recovery:

* one product, weekly, nominal prices deflated by a CPI (``derive``), no ``unit_cost``: the default
  instrument does not apply, the report says so in one line, OLS recovers the (exogenous) elasticity;
* three products, no store, no promotion, the cost column under another name mapped onto ``unit_cost``:
  the default instrument applies, 2SLS recovers the elasticity of the product whose prices follow demand
  (where OLS is biased), and the recommendations are written;
* an explicit instrument that is not a column fails before any kernel starts (exit 2, nothing filed).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from conftest import assert_ok_run, run_notebook, sample_words_in

pytestmark = pytest.mark.slow

#: elasticities.csv and price_recommendations.csv columns as documented (pricing summary helpers).
ELASTICITY_COLUMNS = [
    "product_id",
    "method",
    "elasticity",
    "std_error",
    "ci_low",
    "ci_high",
    "n_obs",
    "identified",
    "first_stage_f",
    "weak_instrument",
    "reason",
    "level",
    "category",
    "r2",
    "n_zero_units",
    "se_type",
    "fixed_effects",
]
RECOMMENDATION_COLUMNS = [
    "product_id",
    "current_price",
    "unit_cost",
    "recommended_price",
    "change_pct",
    "units_change_pct",
    "revenue_change_pct",
    "profit_change_pct",
    "units_change_pct_low",
    "units_change_pct_high",
    "revenue_change_pct_low",
    "revenue_change_pct_high",
    "profit_change_pct_low",
    "profit_change_pct_high",
    "optimal_price",
    "optimal_price_low",
    "optimal_price_high",
    "elasticity",
    "elasticity_low",
    "elasticity_high",
    "status",
]

WEEKS = pd.date_range("2022-01-03", periods=104, freq="W-MON")


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def one_product_panel(path, elasticity: float = -1.5, seed: int = 31) -> None:
    """``Woche, Artikel, price, cpi, Absatz``: one tea, nominal prices, demand reacts to the real price."""
    rng = np.random.default_rng(seed)
    cpi = np.linspace(1.0, 1.12, len(WEEKS))
    real = 3.0 * np.exp(rng.normal(0, 0.12, len(WEEKS)))
    season = 0.2 * np.sin(2 * np.pi * WEEKS.day_of_year / 365.25)
    units = np.round(400 * real**elasticity * np.exp(season + rng.normal(0, 0.08, len(WEEKS))))
    pd.DataFrame(
        {"Woche": WEEKS.date, "Artikel": "TEA-9", "price": (real * cpi).round(3), "cpi": cpi.round(4), "Absatz": units}
    ).to_csv(path, index=False)


#: planted elasticities of the three-product panel; prices of SKU-B follow demand
THREE = {"SKU-A": -2.0, "SKU-B": -1.8, "SKU-C": -2.6}


def three_product_panel(path, seed: int = 57) -> None:
    """``week_start, article, shelf_price, sold, wholesale``: no store, no promotion, no category.

    Price is a markup on the wholesale cost (the instrument); for SKU-B the retailer also raises the
    price in weeks of strong demand, which biases the naive regression towards zero."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, (sku, e) in enumerate(THREE.items()):
        cost = (2.0 + k) * np.exp(rng.normal(0, 0.15, len(WEEKS)))
        demand = rng.normal(0, 0.15, len(WEEKS))
        follow = 0.8 if sku == "SKU-B" else 0.0
        price = 1.6 * cost * np.exp(follow * demand + rng.normal(0, 0.03, len(WEEKS)))
        units = np.round(3000 * price**e * np.exp(demand))
        rows.append(
            pd.DataFrame(
                {
                    "week_start": WEEKS.date,
                    "article": sku,
                    "shelf_price": price.round(3),
                    "sold": units,
                    "wholesale": cost.round(3),
                }
            )
        )
    pd.concat(rows).to_csv(path, index=False)


def test_one_product_without_store_promotion_or_cost(tmp_path, sample_words):
    one_product_panel(tmp_path / "tea.csv")
    proc, out = run_notebook(
        "pricing_elasticity",
        {
            "panel_path": str(tmp_path / "tea.csv"),
            "derive": {"real_price": "price / cpi"},
            "columns": {
                "Woche": "date",
                "Artikel": "product_id",
                "Absatz": "units",
                "real_price": "price",
                "price": "nominal_price",
            },
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)

    fits = pd.read_csv(out / "elasticities.csv")
    assert fits.columns.tolist() == ELASTICITY_COLUMNS
    assert fits["method"].unique().tolist() == ["ols"]
    tea = fits.iloc[0]
    assert tea["product_id"] == "TEA-9" and tea["identified"]
    assert tea["ci_low"] < -1.5 < tea["ci_high"] and abs(tea["elasticity"] + 1.5) < 0.25
    assert not (out / "price_recommendations.csv").exists()

    html = (out / "report.html").read_text()
    assert sample_words_in(html, sample_words) == []
    text = _plain(html)
    assert "no instrument column: 2SLS and double ML skipped; OLS only" in text
    assert "no store column" in text
    assert "The curves show" not in text


def test_three_products_cost_under_another_name(tmp_path, sample_words):
    three_product_panel(tmp_path / "shelf.csv")
    proc, out = run_notebook(
        "pricing_elasticity",
        {
            "panel_path": str(tmp_path / "shelf.csv"),
            "columns": {
                "week_start": "date",
                "article": "product_id",
                "shelf_price": "price",
                "sold": "units",
                "wholesale": "unit_cost",
            },
        },
        tmp_path / "run",
    )
    assert_ok_run(proc, out)

    fits = pd.read_csv(out / "elasticities.csv")
    assert fits.columns.tolist() == ELASTICITY_COLUMNS
    wide = fits.pivot(index="product_id", columns="method", values="elasticity")
    assert sorted(wide.columns) == ["dml", "iv", "ols"] and sorted(wide.index) == sorted(THREE)
    iv = fits[fits["method"] == "iv"].set_index("product_id")
    for sku, e in THREE.items():
        assert iv.at[sku, "ci_low"] < e < iv.at[sku, "ci_high"], (sku, iv.loc[sku].to_dict())
    # the naive regression is biased towards zero where prices follow demand
    assert wide.at["SKU-B", "ols"] > THREE["SKU-B"] + 0.3
    recs = pd.read_csv(out / "price_recommendations.csv")
    assert recs.columns.tolist() == RECOMMENDATION_COLUMNS
    assert sorted(recs["product_id"]) == sorted(THREE) and recs["recommended_price"].notna().all()

    html = (out / "report.html").read_text()
    assert sample_words_in(html, sample_words) == []
    text = _plain(html)
    assert "no store column" in text and "SKU-B" in text


def test_explicit_instrument_that_is_not_a_column_fails_before_the_kernel(tmp_path):
    three_product_panel(tmp_path / "shelf.csv")
    proc, out = run_notebook(
        "pricing_elasticity",
        {
            "panel_path": str(tmp_path / "shelf.csv"),
            "columns": {"week_start": "date", "article": "product_id", "shelf_price": "price", "sold": "units"},
            "instruments": ["log(freight)"],
        },
        tmp_path / "run",
    )
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    message = proc.stderr
    assert "instruments" in message and "freight" in message and "shelf.csv" in message
    assert "wholesale" in message  # the columns the file does have, so the user sees the fix
