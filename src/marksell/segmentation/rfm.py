"""Customer segmentation: RFM table and scores, named RFM segments, behavioural k-means clusters.

Column contract of the input ``transactions`` frame (after loading): ``customer_id`` (any hashable:
string, integer or categorical), ``order_date`` (datetime64), ``revenue`` (float; negative = a
return); optional ``order_id``, ``channel``, ``region``. Every function is a pure function of
DataFrames; nothing reads files.

Conventions (shared with :mod:`marksell.segmentation.clv`):

* ``as_of`` is the first day *not* observed (default: the day after the last order); orders on or
  after it are left out. Recency is counted in days from the last order to ``as_of``.
* A *purchase occasion* is an order with revenue >= 0 (free orders count); with ``merge_same_day`` all positive rows of a
  customer on one day are one occasion (the usual set-up of Fader & Hardie). Negative rows are
  returns: they lower the customer's net revenue but are not purchases.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from marksell.errors import AnalysisError

REQUIRED = ("customer_id", "order_date", "revenue")


# --------------------------------------------------------------------------------------------
# input checks and purchase occasions
# --------------------------------------------------------------------------------------------
def clean_transactions(transactions: pd.DataFrame, today: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Check the contract columns and return a tidy copy; what was dropped goes in ``attrs["notes"]``.

    Raises :class:`AnalysisError` with the column, examples and the fix when a required column is
    missing, revenue is not numeric, dates cannot be read, or nothing is left. Rows without a
    customer or revenue are dropped; orders dated after ``today`` (default: the real date) are
    dropped as data errors, both with a note.
    """
    if transactions is None or len(transactions) == 0:
        raise AnalysisError(
            "no transactions: the table has no rows, so there are no customers to segment. "
            "Fix: check transactions_path and the columns mapping."
        )
    missing = [c for c in REQUIRED if c not in transactions.columns]
    if missing:
        raise AnalysisError(
            f"transactions lack column(s) {missing} (found {list(transactions.columns)}). "
            "Fix: map your column names with the `columns` parameter, e.g. {'Amount': 'revenue'}."
        )
    df = transactions.copy()
    notes: list[str] = list(transactions.attrs.get("notes", []))

    rev = df["revenue"]
    if not pd.api.types.is_numeric_dtype(rev.dtype) or pd.api.types.is_bool_dtype(rev.dtype):
        num = pd.to_numeric(rev.astype("string").str.strip(), errors="coerce")
        bad = num.isna() & rev.notna() & (rev.astype("string").str.strip() != "")
        if bad.any():
            ex = [str(v) for v in rev[bad].unique()[:3]]
            rows = list(df.index[bad][:3])
            raise AnalysisError(
                f"column 'revenue' must be numeric; {int(bad.sum())} value(s) are not numbers "
                f"(e.g. {ex} in rows {rows}). Fix: remove currency symbols and thousands separators, "
                "or map the right column to 'revenue'."
            )
        df["revenue"] = num.astype(float)
    else:
        df["revenue"] = rev.astype(float)

    if not pd.api.types.is_datetime64_any_dtype(df["order_date"].dtype):
        parsed = pd.to_datetime(df["order_date"], errors="coerce")
        bad = parsed.isna() & df["order_date"].notna()
        if bad.any():
            ex = [str(v) for v in df.loc[bad, "order_date"].unique()[:3]]
            raise AnalysisError(
                f"column 'order_date' has {int(bad.sum())} value(s) that are not dates (e.g. {ex}). "
                "Fix: use ISO dates (YYYY-MM-DD)."
            )
        df["order_date"] = parsed
    df["order_date"] = df["order_date"].dt.normalize()

    drop = df["customer_id"].isna() | df["revenue"].isna() | df["order_date"].isna()
    if drop.any():
        notes.append(f"{int(drop.sum())} row(s) without customer, date or revenue were left out.")
        df = df.loc[~drop]
    today_ts = pd.Timestamp(today).normalize() if today is not None else pd.Timestamp.today().normalize()
    future = df["order_date"] > today_ts
    if future.any():
        notes.append(
            f"{int(future.sum())} order(s) dated after today ({today_ts:%Y-%m-%d}, latest "
            f"{df.loc[future, 'order_date'].max():%Y-%m-%d}) were left out as date errors; "
            "check the date column and its format."
        )
        df = df.loc[~future]
    if len(df) == 0:
        raise AnalysisError(
            "no usable transactions are left after removing rows without customer/date/revenue "
            "and future-dated orders. Fix: check the date and revenue columns."
        )
    df = df.reset_index(drop=True)
    df.attrs["notes"] = notes
    return df


def _resolve_as_of(order_date: pd.Series, as_of) -> pd.Timestamp:
    if as_of is None or (isinstance(as_of, str) and as_of.strip() == ""):
        return order_date.max().normalize() + pd.Timedelta(days=1)
    return pd.Timestamp(as_of).normalize()


@dataclass
class Occasions:
    """Purchase occasions sorted by customer then day (arrays), plus returns per customer."""

    code: np.ndarray  # customer code (index into ``customers``)
    day: np.ndarray  # int64 days since 1970-01-01
    value: np.ndarray  # gross value of the occasion (>0)
    customers: pd.Index  # customer ids, by code
    returns: np.ndarray  # returned amount per customer (>=0)
    as_of: pd.Timestamp
    notes: list = field(default_factory=list)
    merge_same_day: bool = True


def purchase_occasions(transactions: pd.DataFrame, as_of=None, merge_same_day: bool = True, clean: bool = True) -> Occasions:
    """Turn transactions into purchase occasions (see module doc), vectorised for large tables."""
    tx = clean_transactions(transactions) if clean else transactions
    notes = list(tx.attrs.get("notes", []))
    as_of_ts = _resolve_as_of(tx["order_date"], as_of)
    day = tx["order_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    as_of_day = np.int64(as_of_ts.to_datetime64().astype("datetime64[D]").astype(np.int64))
    rev = tx["revenue"].to_numpy(dtype=float)
    keep = day < as_of_day
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) dated on or after as_of {as_of_ts:%Y-%m-%d} were left out.")
    codes, uniques = pd.factorize(tx["customer_id"], sort=True)
    codes = codes.astype(np.int64)
    pos = keep & (rev >= 0)  # zero-value orders (free items) are still purchases
    neg = keep & (rev < 0)
    n_cust = len(uniques)
    returns = np.bincount(codes[neg], weights=-rev[neg], minlength=n_cust)

    c, d, v = codes[pos], day[pos], rev[pos]
    if merge_same_day:
        dmin = d.min() if len(d) else 0
        span = (d.max() - dmin + 1) if len(d) else 1
        key = c * span + (d - dmin)
        k, v = sum_per_key(key, v)
        c, d = k // span, k % span + dmin
        return Occasions(c, d, v, pd.Index(uniques), returns, as_of_ts, notes, True)  # already sorted
    elif "order_id" in tx.columns:
        oc, _ = pd.factorize(tx["order_id"].to_numpy()[pos])
        g = pd.DataFrame({"o": oc, "c": c, "d": d, "v": v}).groupby("o", sort=False)
        agg = g.agg(c=("c", "first"), d=("d", "min"), v=("v", "sum"))
        c, d, v = agg["c"].to_numpy(), agg["d"].to_numpy(), agg["v"].to_numpy()
    order = np.lexsort((d, c))
    return Occasions(c[order], d[order], v[order], pd.Index(uniques), returns, as_of_ts, notes, False)


def occasions_of(
    transactions: pd.DataFrame, as_of=None, merge_same_day: bool = True, occasions: Occasions | None = None
) -> Occasions:
    """The purchase occasions of ``transactions``: ``occasions`` when the caller computed them once for several
    steps (RFM, CLV, holdout: on millions of rows each computation costs seconds), else computed here.
    Occasions computed with another ``merge_same_day`` or ``as_of`` are refused."""
    if occasions is None:
        return purchase_occasions(transactions, as_of=as_of, merge_same_day=merge_same_day)
    asked = None if as_of is None or (isinstance(as_of, str) and not as_of.strip()) else pd.Timestamp(as_of).normalize()
    if occasions.merge_same_day != bool(merge_same_day) or (asked is not None and asked != occasions.as_of):
        raise AnalysisError(
            f"the purchase occasions given were computed with merge_same_day={occasions.merge_same_day} and as_of "
            f"{occasions.as_of:%Y-%m-%d}, not merge_same_day={merge_same_day} and as_of {as_of}. Fix: compute them "
            "with purchase_occasions(transactions, as_of=..., merge_same_day=...) using the same settings."
        )
    return occasions


def sum_per_key(key: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-negative integer keys in order and the sum of ``values`` per key.

    The same sums, bit for bit, as ``pd.Series(values).groupby(key).sum()`` (pandas adds keys that come
    sorted with ``np.add.reduceat`` and others with compensated summation in row order), but sorted instead
    of hashed: with millions of distinct keys (customer-days) hashing costs ten times more. The row number
    rides in the low bits of the sorted keys, so one plain sort gives a stable order.
    """
    n = len(key)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    if (key[1:] >= key[:-1]).all():
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        return key[starts], np.add.reduceat(values, starts)
    idx_bits = max(int(n - 1).bit_length(), 1)
    if int(key.max()).bit_length() + idx_bits <= 63:
        packed = np.sort((key.astype(np.int64) << idx_bits) | np.arange(n, dtype=np.int64))
        order, sorted_key = packed & ((1 << idx_bits) - 1), packed >> idx_bits
        del packed
    else:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    return sorted_key[starts], _compensated_sums(values[order], starts)


def _compensated_sums(vals: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Kahan sums of the runs of ``vals`` beginning at ``starts``, step by step as pandas' groupby sum."""
    sizes = np.diff(np.r_[starts, len(vals)])
    total = vals[starts] + 0.0  # the first step from a zero sum (turns -0.0 into 0.0, as pandas does)
    comp = np.zeros(len(starts))
    live = np.flatnonzero(sizes > 1)
    k = 1
    with np.errstate(invalid="ignore"):
        while len(live):
            y = vals[starts[live] + k] - comp[live]
            t = total[live] + y
            c = (t - total[live]) - y
            comp[live] = np.where(np.isnan(c), 0.0, c)
            total[live] = t
            k += 1
            live = live[sizes[live] > k]
    return total


def per_customer(occ: Occasions, upto_day: int | None = None) -> pd.DataFrame:
    """Aggregate occasions (optionally only those before ``upto_day``) per customer code."""
    m = slice(None) if upto_day is None else occ.day < upto_day
    c, d, v = occ.code[m], occ.day[m], occ.value[m]
    if len(c) == 0:
        return pd.DataFrame(columns=["code", "first_day", "last_day", "n", "gross", "first_value"])
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], len(c)] - 1
    return pd.DataFrame(
        {
            "code": c[starts],
            "first_day": d[starts],
            "last_day": d[ends],
            "n": np.diff(np.r_[starts, len(c)]),
            "gross": np.add.reduceat(v, starts),
            "first_value": v[starts],
        }
    )


def _days_to_ts(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[ns]")


# --------------------------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------------------------
def rfm_table(
    transactions: pd.DataFrame, as_of=None, merge_same_day: bool = True, occasions: Occasions | None = None
) -> pd.DataFrame:
    """One row per customer with at least one purchase before ``as_of``.

    Columns: ``customer_id, first_order, last_order, recency_days`` (days from last order to
    ``as_of``), ``tenure_days`` (from first order to ``as_of``), ``frequency`` (purchase occasions),
    ``monetary`` (net revenue per occasion), ``monetary_total`` (net revenue: gross minus returns),
    ``gross_revenue``, ``returns``; plus ``channel`` / ``region`` (the customer's first value) when
    present. ``attrs``: ``as_of`` and ``notes``. ``occasions``: those of ``transactions`` when already computed
    (:func:`occasions_of`).
    """
    occ = occasions_of(transactions, as_of, merge_same_day, occasions)
    pc = per_customer(occ)
    if len(pc) == 0:
        raise AnalysisError(
            "no customers: no purchase (revenue >= 0) is dated before as_of "
            f"{occ.as_of:%Y-%m-%d}. Fix: check as_of and the revenue sign convention (returns negative)."
        )
    notes = list(occ.notes)
    only_returns = len(occ.customers) - len(pc)
    if only_returns:
        notes.append(f"{only_returns} customer(s) with returns but no purchase in the period were left out.")
    as_of_day = occ.as_of.to_datetime64().astype("datetime64[D]").astype(np.int64)
    ret = occ.returns[pc["code"].to_numpy()]
    out = pd.DataFrame(
        {
            "customer_id": occ.customers[pc["code"].to_numpy()],
            "first_order": _days_to_ts(pc["first_day"].to_numpy()),
            "last_order": _days_to_ts(pc["last_day"].to_numpy()),
            "recency_days": (as_of_day - pc["last_day"]).to_numpy(),
            "tenure_days": (as_of_day - pc["first_day"]).to_numpy(),
            "frequency": pc["n"].to_numpy(),
            "gross_revenue": pc["gross"].to_numpy(),
            "returns": ret,
        }
    )
    out["monetary_total"] = out["gross_revenue"] - out["returns"]
    out["monetary"] = out["monetary_total"] / out["frequency"]
    tx = transactions
    for col in ("channel", "region"):
        if col in tx.columns:
            first = tx.sort_values("order_date", kind="stable").drop_duplicates("customer_id")
            out[col] = out["customer_id"].map(pd.Series(first[col].to_numpy(), index=first["customer_id"]))
    out.attrs["as_of"] = occ.as_of
    out.attrs["notes"] = notes
    return out


def _quantile_scores(x: pd.Series, n_bins: int, higher_is_better: bool, tied: int = 1) -> tuple[np.ndarray, list[float]]:
    """Quantile bins with duplicate edges dropped (heavy ties), spread evenly over 1..n_bins; ``tied`` is
    everyone's score when all values are equal (nobody ranks above anyone)."""
    qs = np.quantile(x.to_numpy(dtype=float), np.linspace(0, 1, n_bins + 1))
    inner = np.unique(qs[1:-1])
    # right-closed bins: value <= edge goes to the lower bin
    idx = np.searchsorted(inner, x.to_numpy(dtype=float), side="left")
    used = np.unique(idx)
    k = len(used)
    rank = np.searchsorted(used, idx)  # 0..k-1
    if k == 1:  # everyone tied (e.g. all customers ordered once): the score the common value means
        return np.full(len(x), tied, dtype=int), [float(e) for e in inner]
    score = 1 + np.round(rank * (n_bins - 1) / (k - 1)).astype(int)
    if not higher_is_better:
        score = n_bins + 1 - score
    return score.astype(int), [float(e) for e in inner]


def tied_score(measure: str, values: pd.Series, n_bins: int = 5) -> int:
    """The score of every customer when a measure does not vary, from what the common value means.

    Recency: every last order is on one day, the latest of the data, so nobody is less recent: the best
    score (scoring it worst called customers who bought yesterday "Lost"). Frequency: one order each is
    the fewest possible, 1; any other common count is the middle score. Monetary: the middle score.
    """
    if measure == "recency":
        return n_bins
    if measure == "frequency" and len(values) and float(values.iloc[0]) <= 1:
        return 1
    return (n_bins + 1) // 2


def rfm_scores(rfm: pd.DataFrame, n_bins: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``r_score, f_score, m_score`` (1 = worst, ``n_bins`` = best) and return the bin edges.

    Bins are quantiles of each measure; when ties make quantiles coincide (e.g. most customers
    ordered once) the duplicate edges are dropped and tied customers share a score, the remaining
    bins being spread evenly over 1..``n_bins`` so "5" always means "best group"; a measure on which
    every customer is equal gets :func:`tied_score`. Recency is scored
    so that more recent = higher. Returns ``(rfm_with_scores, edges)``; ``edges`` has one row per
    measure and score with the value range of the customers in that score.
    """
    out = rfm.copy()
    rows = []
    for name, col, better in (
        ("recency", "recency_days", False),
        ("frequency", "frequency", True),
        ("monetary", "monetary", True),
    ):
        score, _ = _quantile_scores(out[col], n_bins, better, tied_score(name, out[col], n_bins))
        out[f"{name[0]}_score"] = score
        g = out.groupby(score)[col]
        for s, lo, hi, n in zip(g.min().index, g.min(), g.max(), g.size()):
            rows.append({"measure": name, "score": int(s), "from": lo, "to": hi, "customers": int(n), "share": n / len(out)})
    edges = (
        pd.DataFrame(rows)
        .sort_values(
            ["measure", "score"], key=lambda s: s.map({"recency": 0, "frequency": 1, "monetary": 2}) if s.name == "measure" else s
        )
        .reset_index(drop=True)
    )
    return out, edges


#: Named RFM segments on the recency x frequency grid (first matching rule wins; covers 5x5).
RFM_SEGMENT_RULES = pd.DataFrame(
    [
        ("Champions", 5, 5, 4, 5, "bought recently and often", "reward; ask for reviews and referrals"),
        ("Loyal", 3, 5, 4, 5, "buy often, fairly recently", "upsell higher-value products; loyalty programme"),
        ("Potential loyalist", 4, 5, 2, 3, "recent, a few orders", "membership offer; recommend next products"),
        ("New", 5, 5, 1, 1, "first order very recently", "onboarding; make the second order easy"),
        ("Promising", 4, 4, 1, 1, "recent single order", "brand awareness; a free-shipping trial"),
        ("Need attention", 3, 3, 3, 3, "average recency and frequency", "limited-time offer based on history"),
        ("About to sleep", 3, 3, 1, 2, "below-average recency and frequency", "share popular products; reactivate"),
        ("Cannot lose them", 1, 2, 5, 5, "used to buy very often, not lately", "win back personally; do not lose to competitors"),
        ("At risk", 1, 2, 3, 4, "used to buy often, long ago", "personalised win-back emails and offers"),
        ("Hibernating", 2, 2, 1, 2, "few orders, long ago", "low-cost reminders; do not overspend"),
        ("Lost", 1, 1, 1, 2, "fewest orders, longest ago", "ignore or a last low-cost campaign"),
    ],
    columns=["segment", "r_min", "r_max", "f_min", "f_max", "description", "action"],
)


def rfm_segments(scored: pd.DataFrame, rules: pd.DataFrame = RFM_SEGMENT_RULES) -> pd.Series:
    """Name each customer's RFM segment from ``r_score`` and ``f_score`` by the rule table."""
    seg = pd.Series(pd.NA, index=scored.index, dtype="string")
    r, f = scored["r_score"], scored["f_score"]
    for rule in rules.itertuples(index=False):
        hit = seg.isna() & r.between(rule.r_min, rule.r_max) & f.between(rule.f_min, rule.f_max)
        seg[hit] = rule.segment
    return seg.fillna("Unclassified").rename("rfm_segment")


# --------------------------------------------------------------------------------------------
# behavioural clusters
# --------------------------------------------------------------------------------------------
RFM_FEATURES = ("recency", "frequency", "monetary")


def cluster_features(rfm: pd.DataFrame, extra_cols: list[str] | None = None, features=RFM_FEATURES) -> pd.DataFrame:
    """Log-transformed RFM (plus optional numeric columns), standardised to mean 0, sd 1.

    Logs tame the long right tails of frequency and spend so that k-means does not spend its
    clusters on a handful of whales. Spend is the *gross* value per order when ``gross_revenue`` is
    there (one returned parcel should not make a big spender look like a bargain hunter), else
    ``monetary``; it is clipped at 0. ``features`` picks which of recency/frequency/monetary to
    use: recency mostly tells *where in its life* a customer is, frequency and spend *what kind*
    of customer it is, so behavioural typing may leave recency out.
    """
    spend = rfm["gross_revenue"] / rfm["frequency"] if "gross_revenue" in rfm else rfm["monetary"]
    feats = pd.DataFrame(
        {
            "recency": np.log1p(rfm["recency_days"].to_numpy(dtype=float) / 30.4375),
            "frequency": np.log1p(rfm["frequency"].to_numpy(dtype=float)),
            "monetary": np.log1p(np.clip(spend.to_numpy(dtype=float), 0, None)),
        },
        index=rfm.index,
    )
    unknown = [f for f in features if f not in RFM_FEATURES]
    if unknown or not features:
        raise AnalysisError(f"unknown clustering feature(s) {unknown}; choose from {list(RFM_FEATURES)}.")
    feats = feats[list(features)]
    for col in extra_cols or []:
        vals = pd.to_numeric(rfm[col], errors="coerce")
        if vals.isna().any():
            raise AnalysisError(f"extra clustering feature '{col}' has missing or non-numeric values. Fix: fill or drop it.")
        feats[col] = vals.to_numpy(dtype=float)
    sd = feats.std(ddof=0)
    # a feature that does not vary is 0 for everyone (rounding would otherwise blow its noise up to +-1 sd)
    sd[sd <= 1e-9 * (feats.abs().max() + 1.0)] = np.inf
    return (feats - feats.mean()) / sd


def _kmeans(k: int, seed: int, n_init: int = 4):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=n_init, random_state=seed, max_iter=100, tol=1e-3)


def choose_k(
    features: pd.DataFrame,
    k_range=range(2, 9),
    seed: int = 0,
    sample_size: int = 4000,
    fit_size: int = 50_000,
) -> pd.DataFrame:
    """Evidence for the number of clusters: silhouette (on a sample) and inertia for each k.

    For large data k-means is fitted on a random subset of ``fit_size`` customers and the
    silhouette computed on ``sample_size`` of them (its cost is quadratic). Returns a table with
    ``k, silhouette, inertia, inertia_drop`` (share of inertia removed by the last added cluster).
    """
    from sklearn.metrics import silhouette_score

    X = features.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    if len(X) > fit_size:
        X = X[rng.choice(len(X), fit_size, replace=False)]
    n_distinct = len(np.unique(X, axis=0)) if len(X) <= 200_000 else len(X)
    rows = []
    for k in k_range:
        if k >= min(len(X), n_distinct):
            break
        km = _kmeans(k, seed, n_init=2).fit(X)
        ss = min(sample_size, len(X))
        sil = silhouette_score(X, km.labels_, sample_size=ss if ss < len(X) else None, random_state=seed)
        rows.append({"k": k, "silhouette": float(sil), "inertia": float(km.inertia_) * len(features) / len(X)})
    ev = pd.DataFrame(rows)
    if len(ev):
        ev["inertia_drop"] = -ev["inertia"].pct_change()
    return ev


def bootstrap_stability(
    features: pd.DataFrame,
    labels: np.ndarray,
    k: int,
    n_boot: int = 20,
    seed: int = 0,
    max_n: int = 10_000,
) -> dict:
    """Refit k-means on bootstrap resamples and compare with ``labels`` by adjusted Rand index.

    An ARI near 1 means the same customers end up together whatever the sample: the solution is a
    property of the data, not of chance. Uses at most ``max_n`` customers (a random subset).
    """
    from sklearn.metrics import adjusted_rand_score

    X = features.to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), max_n, replace=False) if len(X) > max_n else np.arange(len(X))
    Xs, ls = X[idx], np.asarray(labels)[idx]
    aris = []
    for bi in range(n_boot):
        bs = rng.integers(0, len(Xs), len(Xs))
        km = _kmeans(k, seed + 1 + bi, n_init=1).fit(Xs[bs])
        aris.append(adjusted_rand_score(ls, km.predict(Xs)))
    a = np.asarray(aris)
    return {
        "n_boot": n_boot,
        "ari_mean": float(a.mean()),
        "ari_min": float(a.min()),
        "ari_p05": float(np.quantile(a, 0.05)),
        "stable": bool(a.mean() >= 0.75),
    }


def _word(col: str, z: float, one_time: bool) -> str:
    if col == "recency":  # low z = bought recently
        return "Recent" if z < -0.6 else "Lapsed" if z > 0.6 else "Cooling"
    if col == "frequency":
        return "one-time" if one_time else "occasional" if z < 0 else "regular" if z < 0.9 else "frequent"
    return "high-spend" if z > 0.9 else "low-spend" if z < -0.6 else "mid-spend"


#: How a cluster compares with a namesake on one feature: (word for the lower z, word for the higher z).
#: A low recency z means a recent last purchase.
_COMPARED = {
    "recency": ("more recent", "less recent"),
    "frequency": ("less frequent", "more frequent"),
    "monetary": ("lower spend", "higher spend"),
}
_SUPERLATIVE = {
    "recency": ("most recent", "least recent"),
    "frequency": ("least frequent", "most frequent"),
    "monetary": ("lowest spend", "highest spend"),
}


def name_clusters(profile_z: pd.DataFrame, freq_median: pd.Series | None = None) -> dict:
    """Plain-word names from standardised centroids, e.g. ``"Recent frequent high-spend customers"``.

    ``profile_z`` has one row per cluster and columns ``recency, frequency, monetary`` (mean
    standardised log features, 0 = customer-base average). Recency: below -0.6 sd "Recent", above
    +0.6 "Lapsed", else "Cooling"; frequency: median of 1 order "one-time", below average
    "occasional", up to +0.9 sd "regular", above "frequent"; spend: above +0.9 sd "high-spend", below
    -0.6 "low-spend", else "mid-spend". Clusters that get the same words are told apart by the feature on
    which they differ most: "(more frequent)" and "(less frequent)", or "most"/"least" for three or more.
    """
    names = {}
    for cl, row in profile_z.iterrows():
        one = freq_median is not None and freq_median.get(cl, 2) <= 1
        words = [_word(c, row[c], one) for c in ("recency", "frequency", "monetary") if c in row.index]
        names[cl] = " ".join(words) + " customers"
    groups: dict[str, list] = {}
    for cl, n in names.items():
        groups.setdefault(n, []).append(cl)
    for base, members in groups.items():
        if len(members) > 1:
            names.update(distinguish_namesakes(profile_z.loc[members], base))
    return names


def distinguish_namesakes(profile_z: pd.DataFrame, base: str) -> dict:
    """Names for clusters that share the name ``base``: each gets how it compares on the feature that
    separates them most (``"base (higher spend)"``); numbered only if that still leaves a tie."""
    cols = [c for c in _COMPARED if c in profile_z.columns]
    spread = profile_z[cols].max() - profile_z[cols].min()
    feature = str(spread.idxmax())
    order = profile_z[feature].sort_values(kind="stable").index.tolist()
    low, high = (_COMPARED if len(order) == 2 else _SUPERLATIVE)[feature]
    out = {}
    for pos, cl in enumerate(order):
        word = low if pos == 0 else high if pos == len(order) - 1 else f"middle {feature}"
        out[cl] = f"{base} ({word})"
    middles = order[1:-1]
    if len(middles) > 1:  # four or more namesakes: the middle ones are numbered in feature order
        for i, cl in enumerate(middles, start=2):
            out[cl] = f"{base} ({feature} rank {i} of {len(order)})"
    return out


@dataclass
class ClusterResult:
    labels: np.ndarray
    names: dict
    k: int
    k_automatic: bool
    evidence: pd.DataFrame
    stability: dict
    centroids_z: pd.DataFrame
    method: str = "kmeans"


def fit_clusters(
    rfm: pd.DataFrame,
    n_clusters: int = 0,
    seed: int = 0,
    extra_cols: list[str] | None = None,
    method: str = "kmeans",
    k_range=range(3, 9),
    n_boot: int = 10,
    fit_size: int = 100_000,
    features=RFM_FEATURES,
) -> ClusterResult:
    """Cluster customers on standardised log RFM; ``n_clusters=0`` chooses k by silhouette.

    k is searched over ``k_range`` (default 3..8: two clusters merely split the best customers
    from the rest, which the RFM segments already show). The final model is fitted on up to
    ``fit_size`` customers and every customer is assigned to
    the nearest centroid; evidence and stability come from :func:`choose_k` and
    :func:`bootstrap_stability`. ``method="gmm"`` uses a Gaussian mixture instead of k-means.
    Cluster numbers are ordered by decreasing mean spend x frequency (0 = most valuable).
    """
    if len(rfm) < 3:
        raise AnalysisError(f"clustering needs at least 3 customers; found {len(rfm)}.")
    feats = cluster_features(rfm, extra_cols, features)
    X = feats.to_numpy(dtype=float)
    # one BLAS/OpenMP thread: many small k-means fits are much faster without oversubscription, and the results
    # do not depend on the machine's cores. The limit reaches only libraries already loaded: scikit-learn (and
    # the OpenMP runtime and BLAS it loads) must be imported before it.
    import sklearn.cluster  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.mixture  # noqa: F401

    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        evidence = choose_k(feats, k_range=k_range, seed=seed)
        if n_clusters and n_clusters > 0:
            k, auto = int(n_clusters), False
        else:
            if len(evidence) == 0:
                raise AnalysisError("too few distinct customers to form 2 clusters; set n_clusters=1 or add data.")
            k, auto = int(evidence.loc[evidence["silhouette"].idxmax(), "k"]), True
        rng = np.random.default_rng(seed)
        Xf = X[rng.choice(len(X), fit_size, replace=False)] if len(X) > fit_size else X
        if method == "gmm":
            from sklearn.mixture import GaussianMixture

            model = GaussianMixture(n_components=k, n_init=2, random_state=seed).fit(Xf)
        elif method == "kmeans":
            model = _kmeans(k, seed, n_init=4).fit(Xf)
        else:
            raise AnalysisError(f"unknown clustering method {method!r}; use 'kmeans' or 'gmm'.")
        raw = model.predict(X)
        stability = bootstrap_stability(feats, raw, k, n_boot=n_boot, seed=seed) if k > 1 else {}
    # order clusters by value: mean (log frequency + log monetary)
    sign = {"recency": -1.0, "frequency": 1.0, "monetary": 1.0}
    score = sum(sign[c] * feats[c] for c in feats.columns if c in sign)
    value = pd.Series(np.asarray(score, dtype=float)).groupby(raw).mean()
    order = {old: new for new, old in enumerate(value.sort_values(ascending=False).index)}
    labels = np.vectorize(order.get)(raw) if len(raw) else raw
    every = cluster_features(rfm)
    cz = every.groupby(labels).mean()  # names and snake plot use all of R, F, M
    fmed = rfm["frequency"].groupby(labels).median()
    # a measure on which all customers are equal says nothing about a cluster (frequency keeps "one-time")
    said = [c for c in cz.columns if c == "frequency" or every[c].abs().max() > 0]
    names = name_clusters(cz[said], fmed)
    return ClusterResult(labels.astype(int), names, k, auto, evidence, stability, cz, method)


# --------------------------------------------------------------------------------------------
# profiles, concentration, actions
# --------------------------------------------------------------------------------------------
def segment_profiles(customers: pd.DataFrame, by: str, value_cols: list[str] | None = None) -> pd.DataFrame:
    """Size, share of customers and of net revenue, averages, and channel/region mix per group.

    ``customers`` is the RFM table (plus e.g. ``clv``); ``by`` the group column. Mix columns are
    named ``channel:search`` etc. (share of the group's customers).
    """
    value_cols = value_cols or [
        c
        for c in ("recency_days", "frequency", "monetary", "monetary_total", "p_alive", "expected_purchases", "clv")
        if c in customers
    ]
    g = customers.groupby(by, observed=True, sort=True)
    prof = pd.DataFrame({"customers": g.size()})
    prof["share_customers"] = prof["customers"] / len(customers)
    tot = customers["monetary_total"].sum()
    prof["share_revenue"] = g["monetary_total"].sum() / tot if tot else np.nan
    prof = prof.join(g[value_cols].mean().add_prefix("avg_"))
    if "clv" in customers:
        prof["total_clv"] = g["clv"].sum()
    for col in ("channel", "region"):
        if col in customers:
            mix = pd.crosstab(customers[by], customers[col], normalize="index")
            prof = prof.join(mix.add_prefix(f"{col}:"))
    return prof.reset_index().rename(columns={by: "group"})


def pareto_concentration(values: pd.Series | np.ndarray) -> tuple[pd.DataFrame, dict]:
    """Cumulative share of revenue by cumulative share of customers (largest first) and headlines.

    Returns ``(curve, stats)``: ``curve`` has ``customer_share, revenue_share`` (at most 501 points);
    ``stats`` the revenue share of the top 1 %, 10 % and 20 %, the share of customers that make 80 %
    of revenue, and the Gini coefficient. Negative totals (net returners) count as 0.
    """
    v = np.sort(np.clip(np.asarray(values, dtype=float), 0, None))[::-1]
    n, tot = len(v), v.sum()
    if n == 0 or tot <= 0:
        raise AnalysisError(
            f"revenue concentration is undefined: {'no customers' if n == 0 else 'every customer'}"
            f"{'' if n == 0 else ' has zero or negative net revenue'} in the data analysed. Check the sign of "
            "the revenue column (orders positive, returns negative), its mapping in `columns`, and the dates."
        )
    cum = np.cumsum(v) / tot
    cs = np.arange(1, n + 1) / n

    def top(share):
        return float(cum[max(int(np.ceil(share * n)) - 1, 0)])

    gini = float(1 - 2 * np.sum((np.cumsum(v[::-1]) / tot) - v[::-1] / (2 * tot)) / n)
    stats = {
        "top_1pct_revenue_share": top(0.01),
        "top_10pct_revenue_share": top(0.10),
        "top_20pct_revenue_share": top(0.20),
        "customer_share_for_80pct_revenue": float(cs[np.searchsorted(cum, 0.8)]),
        "gini": gini,
    }
    pick = np.unique(np.linspace(0, n - 1, min(n, 500)).astype(int))
    curve = pd.DataFrame({"customer_share": np.r_[0.0, cs[pick]], "revenue_share": np.r_[0.0, cum[pick]]})
    return curve, stats


def snake_data(features: pd.DataFrame, labels, names: dict | None = None) -> pd.DataFrame:
    """Mean standardised feature per group (rows) for a snake plot."""
    out = features.groupby(np.asarray(labels)).mean()
    if names:
        out.index = [names.get(i, i) for i in out.index]
    return out


def action_table(customers: pd.DataFrame, rules: pd.DataFrame = RFM_SEGMENT_RULES) -> pd.DataFrame:
    """What to do with each RFM segment and the value at stake (future CLV when available).

    Columns: ``segment, customers, share_revenue, value_at_stake, action, aim`` where aim is
    retain / grow / win back / nurture / let go.
    """
    aims = {
        "Champions": "retain",
        "Loyal": "retain",
        "Potential loyalist": "grow",
        "New": "nurture",
        "Promising": "grow",
        "Need attention": "grow",
        "About to sleep": "win back",
        "Cannot lose them": "win back",
        "At risk": "win back",
        "Hibernating": "let go",
        "Lost": "let go",
    }
    g = customers.groupby("rfm_segment", observed=True)
    tot = customers["monetary_total"].sum()
    out = pd.DataFrame({"customers": g.size(), "share_revenue": g["monetary_total"].sum() / tot})
    out["value_at_stake"] = g["clv"].sum() if "clv" in customers else np.nan
    out = out.join(rules.set_index("segment")[["action"]])
    out["aim"] = out.index.map(aims)
    order = {s: i for i, s in enumerate(rules["segment"])}
    out = out.sort_values("value_at_stake", ascending=False) if "clv" in customers else out.sort_index(key=lambda s: s.map(order))
    return out.reset_index(names="segment")
