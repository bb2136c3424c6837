"""A synthetic CRM with known truth.

The generative process (time unit: days) is documented in
:func:`make_synthetic_crm`; every latent quantity is returned in ``truth`` so
models can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crmml.exceptions import ParameterError

__all__ = ["SyntheticCRM", "make_synthetic_crm", "DEFAULT_SYNTHETIC_PARAMS"]

#: Defaults of the generative process; override any key through ``params=``.
DEFAULT_SYNTHETIC_PARAMS = {
    # BG/NBD purchase process (per day): lambda ~ Gamma(r, scale=1/alpha), p ~ Beta(a, b)
    "r": 0.9, "alpha": 20.0, "a": 0.8, "b": 3.0,
    # Gamma-Gamma spend: basket value ~ Gamma(p, scale=1/nu), nu ~ Gamma(q, scale=1/gamma)
    "p": 6.0, "q": 4.0, "gamma": 15.0,
    # baskets: 1 + Poisson(basket_extra_items) line items per purchase occasion
    "basket_extra_items": 1.5,
    # products: Zipf popularity with exponent zipf_s; a line is drawn from the customer's
    # favourite category with probability category_affinity, otherwise from the whole catalogue
    "n_products": 500, "n_categories": 20, "zipf_s": 1.1, "category_affinity": 0.6,
    # returns: each line is returned (negative amount, 1-30 days later) with this probability
    "return_rate": 0.03,
    # events per day while active, by type (customer-level multiplier ~ Gamma(2, 1/2))
    "event_rates": {"web_visit": 0.025, "email_open": 0.016, "email_click": 0.005,
                    "support_ticket": 0.0015, "complaint": 0.0005},
    # in the last decline_days before dropout, rates are multiplied by decline_factor
    # (complaints and support tickets by 1/decline_factor); after dropout by after_factor
    "decline_days": 60.0, "decline_factor": 0.35, "after_factor": 0.05,
    # leads: logit P(convert) = intercept + attribute effects + engagement effect
    "lead_intercept": -2.2,
}


@dataclass
class SyntheticCRM:
    """Frames in the standard schema plus the truth that generated them.

    Attributes
    ----------
    customers, transactions, events, products, leads, lead_events : DataFrame
        Standard-schema frames. ``lead_events`` uses ``lead_id`` as its key.
    truth : DataFrame
        Per customer (index ``customer_id``): ``birth`` (first purchase),
        ``lam`` (purchase rate per day), ``p_drop``, ``nu`` (spend rate; mean
        basket value is ``p / nu``), ``dropout`` (timestamp the customer became
        inactive; may lie after ``end``), ``n_repeat`` (repeat purchases in
        the window), ``favourite_category``.
    lead_truth : DataFrame
        Per lead: the true conversion probability ``p_convert``.
    params : dict
        The generating parameters (defaults merged with overrides).
    start, end : Timestamp
        The observation window ``[start, end)``.

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=200, seed=0)
    >>> len(crm.customers), crm.truth.index.equals(crm.customers.set_index("customer_id").index)
    (200, True)
    >>> bool((crm.transactions["timestamp"] < crm.end).all())
    True
    """

    customers: pd.DataFrame
    transactions: pd.DataFrame
    events: pd.DataFrame
    products: pd.DataFrame
    leads: pd.DataFrame
    lead_events: pd.DataFrame
    truth: pd.DataFrame
    lead_truth: pd.DataFrame
    params: dict = field(default_factory=dict)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


def _to_ts(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    return (start.to_datetime64().astype("datetime64[ns]")
            + (days * 86_400e9).astype("int64").astype("timedelta64[ns]"))


def _order_by_customer_time(cust: np.ndarray, t: np.ndarray, span: float, *,
                            presorted_runs: bool = False) -> np.ndarray:
    """Permutation sorting rows by (customer, time) through one float key.

    ``presorted_runs`` says the input is a few runs already sorted by the key, where a
    stable (timsort) sort is close to linear.
    """
    key = cust.astype(np.float64) * (span + 64.0) + t
    return np.argsort(key, kind="stable" if presorted_runs else "quicksort")


def _poisson_times(rng, owner_start, owner_end, rate, owner_ids):
    """Poisson-process event times on [start, end) per owner, vectorised."""
    length = np.clip(owner_end - owner_start, 0.0, None)
    n = rng.poisson(rate * length)
    ids = np.repeat(owner_ids, n)
    t = np.repeat(owner_start, n) + rng.random(int(n.sum())) * np.repeat(length, n)
    return ids, t


def _simulate_purchases(rng, n, prm, n_days):
    """BG/NBD: birth uniform over the first 60% of the window; repeat purchases a
    Poisson(lambda) process; after each repeat purchase the customer drops out with p."""
    birth = rng.random(n) * n_days * 0.6
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], n)
    p_drop = rng.beta(prm["a"], prm["b"], n)
    T = n_days - birth
    n_poisson = rng.poisson(lam * T)                 # repeat purchases if nobody dropped out
    k_drop = rng.geometric(p_drop)                   # the repeat purchase after which one drops out
    m = np.minimum(n_poisson, k_drop)                # repeat purchases actually observed
    # first m of n_poisson sorted uniforms on [0, T]: exponential spacings S_j / S_{n+1}
    total_m = int(m.sum())
    e = rng.exponential(1.0, total_m)
    cs = np.cumsum(e)
    ends = np.cumsum(m)
    starts = ends - m
    base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)] if total_m else 0.0, 0.0)
    within = cs - np.repeat(base, m)
    s_m = np.zeros(n)
    has = m > 0
    s_m[has] = within[ends[has] - 1]
    rest = rng.gamma(np.maximum(n_poisson - m + 1, 1).astype(float), 1.0)
    denom = s_m + rest
    rep_t = np.repeat(birth, m) + np.repeat(T / denom, m) * within
    # dropout time: after the k-th repeat purchase (memoryless beyond the window)
    dropped_in = k_drop <= n_poisson
    last = np.where(has, birth + T * s_m / denom, birth)
    beyond = n_days + rng.gamma(np.maximum(k_drop - n_poisson, 1).astype(float), 1.0 / lam)
    dropout = np.where(dropped_in, last, beyond)
    return birth, lam, p_drop, m, rep_t, dropout


def _catalogue(rng, prm):
    n_prod, n_cat = int(prm["n_products"]), int(prm["n_categories"])
    ranks = rng.permutation(n_prod) + 1
    weight = 1.0 / ranks ** prm["zipf_s"]
    cat = np.sort(rng.integers(0, n_cat, n_prod))
    cat[:n_cat] = np.arange(n_cat)                   # every category has a product
    cat = np.sort(cat)
    price = np.round(rng.lognormal(2.3, 0.6, n_prod), 2)
    margin = np.round(rng.uniform(0.1, 0.5, n_prod), 3)
    # per-category cdf laid out as c + cdf_within, strictly increasing across categories
    cdf_within = np.zeros(n_prod)
    for c in range(n_cat):
        idx = np.flatnonzero(cat == c)
        w = np.cumsum(weight[idx])
        cdf_within[idx] = w / w[-1]
    keys = cat + cdf_within
    glob_cdf = np.cumsum(weight) / weight.sum()
    cat_pop = np.bincount(cat, weights=weight, minlength=n_cat)
    return cat, price, margin, keys, glob_cdf, cat_pop / cat_pop.sum()


def _check_window(start, n_days) -> pd.Timestamp:
    """``start`` by crmml's date rule (a number is refused, not read as nanoseconds) and a window whose dates,
    returns included, pandas can hold (before 2262-04-11)."""
    from crmml._utils import check_as_of, check_number
    from crmml.exceptions import ParameterError

    owner = "make_synthetic_crm"
    check_number(n_days, "n_days", owner, low=1, high=36_500)
    t0 = check_as_of(start, owner, "start")
    if (pd.Timestamp.max.value - t0.value) // 86_400_000_000_000 <= int(n_days) + 400:
        raise ParameterError(f"The 'start' parameter of {owner}: the window {t0.date()} + {n_days} days (plus "
                             "returns and events after it) reaches past 2262-04-11, the last date pandas holds; "
                             "start earlier.")
    return t0


def make_synthetic_crm(n_customers: int = 5_000, seed: int = 0, *, n_days: int = 730,
                       start: str = "2023-01-01", n_leads: int | None = None,
                       with_events: bool = True, params: dict | None = None) -> SyntheticCRM:
    """Draw a synthetic CRM (customers, transactions, events, products, leads) with known truth.

    Generative process (time in days, window ``[start, start + n_days)``):

    1. Each customer is born (first purchase) uniformly in the first 60% of the
       window. Purchase rate ``lam ~ Gamma(r, 1/alpha)``, dropout probability
       ``p ~ Beta(a, b)``. Repeat purchases follow a Poisson(lam) process; after
       each repeat purchase the customer drops out with probability ``p``
       (BG/NBD, Fader, Hardie & Lee 2005).
    2. Each purchase occasion (``transaction_id``) has a value drawn from
       ``Gamma(p, 1/nu)`` with ``nu ~ Gamma(q, 1/gamma)`` per customer
       (Gamma-Gamma, Fader, Hardie & Lee 2005), split over ``1 + Poisson(1.5)``
       lines. Each line's product is drawn with Zipf popularity, from the
       customer's favourite category with probability ``category_affinity``.
    3. A small share of lines is returned 1-30 days later (negative amount).
    4. Events (web visits, email opens/clicks, support tickets, complaints) arrive
       as Poisson processes with customer-level rates; in the ``decline_days``
       before dropout engagement falls and complaints/tickets rise; after
       dropout only a trickle remains.
    5. Leads have attributes and engagement; ``P(convert)`` is a known logistic
       function of them (see ``lead_truth``).

    Parameters
    ----------
    n_customers : int, default=5000
    seed : int, default=0
    n_days : int, default=730
        Length of the observation window, 1 to 36,500 days.
    start : str, default="2023-01-01"
        First day of the window (a date; a number is refused, as for every ``as_of`` in crmml).
    n_leads : int, optional
        Defaults to ``max(500, n_customers // 2)``.
    with_events : bool, default=True
    params : dict, optional
        Overrides of :data:`DEFAULT_SYNTHETIC_PARAMS`.

    Returns
    -------
    SyntheticCRM

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=200, seed=1)
    >>> sorted(crm.transactions.columns)
    ['amount', 'category', 'channel', 'customer_id', 'product_id', 'quantity', 'timestamp', 'transaction_id']
    >>> crm.truth.index.name, len(crm.truth)
    ('customer_id', 200)
    """
    if not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ParameterError(f"The 'n_customers' parameter of make_synthetic_crm must be a positive int. "
                             f"Got {n_customers!r} instead.")
    unknown = set(params or {}) - set(DEFAULT_SYNTHETIC_PARAMS)
    if unknown:
        raise ParameterError(f"Unknown keys in 'params' of make_synthetic_crm: {sorted(unknown)}; "
                             f"known keys: {sorted(DEFAULT_SYNTHETIC_PARAMS)}")
    prm = {**DEFAULT_SYNTHETIC_PARAMS, **(params or {})}
    t0 = _check_window(start, n_days)
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    ids = np.arange(1, n + 1, dtype=np.int64)

    birth, lam, p_drop, m, rep_t, dropout = _simulate_purchases(rng, n, prm, float(n_days))
    nu = rng.gamma(prm["q"], 1.0 / prm["gamma"], n)
    cat, price, margin, keys, glob_cdf, cat_pop = _catalogue(rng, prm)
    fav = np.searchsorted(np.cumsum(cat_pop), rng.random(n), side="right").clip(0, len(cat_pop) - 1)
    online_pref = rng.beta(2, 2, n)

    # purchase occasions: birth + repeats, ordered by customer then time
    occ_cust = np.concatenate([np.arange(n), np.repeat(np.arange(n), m)])
    occ_t = np.concatenate([birth, rep_t])
    order = _order_by_customer_time(occ_cust, occ_t, float(n_days), presorted_runs=True)
    occ_cust, occ_t = occ_cust[order], occ_t[order]
    n_occ = len(occ_cust)
    occ_value = rng.gamma(prm["p"], 1.0 / nu[occ_cust])
    occ_online = rng.random(n_occ) < online_pref[occ_cust]

    # lines: split each occasion's value over its lines (normalised exponentials)
    n_lines = 1 + rng.poisson(prm["basket_extra_items"], n_occ)
    line_occ = np.repeat(np.arange(n_occ), n_lines)
    w = rng.exponential(1.0, len(line_occ))
    wsum = np.bincount(line_occ, weights=w, minlength=n_occ)
    line_amount = np.round(occ_value[line_occ] * w / wsum[line_occ], 2)
    line_cust = occ_cust[line_occ]
    from_fav = rng.random(len(line_occ)) < prm["category_affinity"]
    u = rng.random(len(line_occ))
    prod = np.where(from_fav,
                    np.searchsorted(keys, fav[line_cust] + u, side="left"),
                    np.searchsorted(glob_cdf, u, side="left"))
    prod = prod.clip(0, len(keys) - 1)
    line_t = occ_t[line_occ]
    qty = np.maximum(1, np.round(line_amount / price[prod])).astype(float)

    # returns
    ret = rng.random(len(line_occ)) < prm["return_rate"]
    ret_t = line_t[ret] + rng.uniform(1, 30, int(ret.sum()))
    keep_ret = ret_t < n_days
    ridx = np.flatnonzero(ret)[keep_ret]
    all_idx = np.concatenate([np.arange(len(line_occ)), ridx])
    sign = np.concatenate([np.ones(len(line_occ)), -np.ones(len(ridx))])
    all_t = np.concatenate([line_t, ret_t[keep_ret]])
    occ_ids = line_occ[all_idx] + 1
    tx = pd.DataFrame({
        "customer_id": ids[line_cust[all_idx]],
        "timestamp": _to_ts(t0, all_t),
        "amount": sign * line_amount[all_idx],
        "transaction_id": np.where(sign > 0, occ_ids, -occ_ids),
        "product_id": prod[all_idx].astype(np.int64) + 1,
        "category": pd.Categorical.from_codes(cat[prod[all_idx]], [f"cat_{c:02d}" for c in range(len(cat_pop))]),
        "quantity": sign * qty[all_idx],
        "channel": pd.Categorical.from_codes(occ_online[line_occ[all_idx]].astype(np.int8), ["store", "online"]),
    })
    tx = tx.take(_order_by_customer_time(line_cust[all_idx], all_t, float(n_days),
                                         presorted_runs=True)).reset_index(drop=True)

    products = pd.DataFrame({
        "product_id": np.arange(1, len(keys) + 1, dtype=np.int64),
        "category": [f"cat_{c:02d}" for c in cat], "price": price, "margin": margin,
    })
    truth = pd.DataFrame({
        "birth": _to_ts(t0, birth), "lam": lam, "p_drop": p_drop, "nu": nu,
        "dropout": _to_ts(t0, np.minimum(dropout, 36_500.0)), "n_repeat": m,
        "favourite_category": pd.Categorical.from_codes(fav, [f"cat_{c:02d}" for c in range(len(cat_pop))]),
    }, index=pd.Index(ids, name="customer_id"))

    region = pd.Categorical.from_codes(rng.choice(4, n, p=[0.35, 0.25, 0.2, 0.2]),
                                       ["north", "south", "east", "west"])
    acq = pd.Categorical.from_codes(rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1]),
                                    ["organic", "paid_search", "social", "referral"])
    customers = pd.DataFrame({
        "customer_id": ids,
        "signup_date": _to_ts(t0, np.maximum(birth - rng.exponential(10.0, n), 0.0)),
        "region": region, "acquisition_channel": acq,
        "age": np.clip(np.round(rng.normal(42, 13, n)), 18, 90).astype(np.int64),
    })

    events = _events(rng, ids, birth, dropout, float(n_days), prm, t0) if with_events else \
        pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "timestamp": pd.Series(dtype="datetime64[ns]"),
                      "event_type": pd.Series(dtype="str")})
    leads, lead_events, lead_truth = _leads(rng, n_leads if n_leads is not None else max(500, n // 2),
                                            prm, t0, float(n_days))
    return SyntheticCRM(customers=customers, transactions=tx, events=events, products=products,
                        leads=leads, lead_events=lead_events, truth=truth, lead_truth=lead_truth,
                        params=prm, start=t0, end=t0 + pd.Timedelta(days=n_days))


def _events(rng, ids, birth, dropout, n_days, prm, t0):
    n = len(ids)
    mult = rng.gamma(2.0, 0.5, n)
    decline_start = np.clip(dropout - prm["decline_days"], birth, None)
    active_end = np.minimum(decline_start, n_days)
    decl_end = np.minimum(dropout, n_days)
    parts_c, parts_t, parts_k = [], [], []
    rising = {"support_ticket", "complaint"}
    for k, (etype, rate) in enumerate(prm["event_rates"].items()):
        base = rate * mult
        f_decl = 1.0 / prm["decline_factor"] if etype in rising else prm["decline_factor"]
        for seg_start, seg_end, f in ((birth, active_end, 1.0),
                                      (decline_start, decl_end, f_decl),
                                      (np.minimum(dropout, n_days), np.full(n, n_days), prm["after_factor"])):
            c, t = _poisson_times(rng, seg_start, seg_end, base * f, np.arange(n))
            parts_c.append(c)
            parts_t.append(t)
            parts_k.append(np.full(len(c), k, dtype=np.int8))
    c, t, k = np.concatenate(parts_c), np.concatenate(parts_t), np.concatenate(parts_k)
    order = _order_by_customer_time(c, t, n_days)
    return pd.DataFrame({
        "customer_id": ids[c[order]],
        "timestamp": _to_ts(t0, t[order]),
        "event_type": pd.Categorical.from_codes(k[order], list(prm["event_rates"])),
    })


def _leads(rng, n_leads, prm, t0, n_days):
    industries = np.array(["retail", "finance", "health", "tech", "manufacturing", "education"])
    ind_eff = dict(zip(industries, [0.0, 0.5, 0.2, 0.8, -0.3, -0.6]))
    sources = np.array(["web_form", "referral", "event", "cold_call", "partner"])
    src_eff = dict(zip(sources, [0.3, 1.0, 0.4, -1.0, 0.6]))
    employees = np.round(np.exp(rng.normal(4.0, 1.5, n_leads))).astype(np.int64) + 1
    seniority = rng.integers(0, 4, n_leads)      # 0 staff .. 3 executive
    has_budget = rng.random(n_leads) < 0.4
    created = rng.random(n_leads) * (n_days - 30)
    engagement = rng.gamma(1.5, 1.0, n_leads)
    ind_code = rng.integers(0, len(industries), n_leads)
    src_code = np.searchsorted(np.cumsum([0.35, 0.15, 0.15, 0.25, 0.10]), rng.random(n_leads), side="right")
    src_code = src_code.clip(0, len(sources) - 1)
    industry = pd.Categorical.from_codes(ind_code, industries)
    source = pd.Categorical.from_codes(src_code, sources)
    logit = (prm["lead_intercept"] + np.array(list(ind_eff.values()))[ind_code]
             + np.array(list(src_eff.values()))[src_code]
             + 0.25 * (np.log(employees) - 4.0) + 0.35 * seniority + 0.9 * has_budget
             + 0.45 * (engagement - 1.5))
    p_conv = 1.0 / (1.0 + np.exp(-logit))
    converted = (rng.random(n_leads) < p_conv).astype(np.int64)
    lead_ids = np.arange(1, n_leads + 1, dtype=np.int64)
    # engagement events in the 30 days after creation; conversion is decided at day 30
    types = np.array(["web_visit", "email_open", "email_click", "demo_request"])
    rates = np.array([0.25, 0.2, 0.06, 0.01])
    cs, ts, ks = [], [], []
    for k, r in enumerate(rates):
        c, t = _poisson_times(rng, created, created + 30.0, r * engagement, np.arange(n_leads))
        cs.append(c), ts.append(t), ks.append(np.full(len(c), k))
    c, t, k = np.concatenate(cs), np.concatenate(ts), np.concatenate(ks)
    order = _order_by_customer_time(c, t, n_days)
    lead_events = pd.DataFrame({"lead_id": lead_ids[c[order]], "timestamp": _to_ts(t0, t[order]),
                                "event_type": pd.Categorical.from_codes(k[order], types)})
    miss = rng.random(n_leads) < 0.1
    emp = pd.Series(employees, dtype="float64").where(~miss)
    leads = pd.DataFrame({
        "lead_id": lead_ids, "created_at": _to_ts(t0, created), "industry": industry, "source": source,
        "employees": emp, "seniority": seniority, "has_budget": has_budget.astype(np.int64),
        "converted": converted,
    })
    lead_truth = pd.DataFrame({"p_convert": p_conv, "engagement": engagement},
                              index=pd.Index(lead_ids, name="lead_id"))
    return leads, lead_events, lead_truth
