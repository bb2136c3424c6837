"""Per-customer intervals on expected purchases and CLV.

Method (documented in :meth:`crmml.clv.CLVModel.predict_interval`): for each draw

1. parameters are drawn from their asymptotic sampling distribution (multivariate normal on
   the log-parameters with the inverse observed information, i.e. a parametric bootstrap
   of the estimate); ``n_param_draws`` distinct parameter vectors are reused cyclically;
2. given those parameters and the customer's history, the customer's latent state is drawn
   from its posterior: alive with probability P(alive); if alive, the purchase rate (and
   dropout probability / rate) from their conjugate posteriors; the mean spend
   ``p / nu`` from ``nu ~ Gamma(q + p x, gamma + x m)``;
3. the customer's *expected* purchases over the horizon given that state (``(1/p)(1 -
   exp(-lambda p t))`` for BG/NBD, ``lambda/mu (1 - exp(-mu t))`` for Pareto/NBD; 0 if not
   alive), its discounted version and the CLV are computed.

Quantiles over draws give intervals for the customer's true expected purchases and CLV
(parameter and latent-state uncertainty; not the Poisson noise of the actual count).

Partition-exact: the parameter draws are shared (they come from ``random_state`` alone); every latent-state
draw of a customer comes from that customer's own stream (:class:`crmml._utils._streams.CustomerStreams`,
keyed by ``random_state`` and the customer id), so a customer's interval does not depend on which other
customers are computed with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._rowdot import row_dot
from crmml._utils._streams import CustomerStreams


def discounted_sum(cum, discount):
    """Discounted purchases from cumulative expected purchases ``cum`` (n, k) at the grid points.

    Summed column by column in a fixed order, not with ``@`` (BLAS picks its blocking from the array's size
    and alignment, so a customer's value would depend on the other rows: not partition-exact).
    """
    return row_dot(np.diff(cum, axis=1, prepend=0.0), discount)


def _unique_rows(x, tx, T):
    g = pd.DataFrame({"x": x, "tx": tx, "T": T}).groupby(["x", "tx", "T"], sort=False)
    codes = g.ngroup().to_numpy()
    u = g.size().index.to_frame(index=False)
    return codes, u["x"].to_numpy(float), u["tx"].to_numpy(float), u["T"].to_numpy(float)


def draw_params(purchase_model, spend_model, n_draws, n_param_draws, rng):
    """Parameter draws shared by every block of customers."""
    n_theta = max(1, min(n_param_draws, n_draws))
    thetas = purchase_model.sample_params(n_theta, random_state=rng)
    phis = spend_model.sample_params(n_theta, random_state=rng) if spend_model is not None else None
    return thetas, phis


def posterior_draws(purchase_model, spend_model, summary, t_grid, discount, thetas, phis, *, seed, n_draws=200,
                    spend_rule=None):
    """Draws (n_draws, n_customers) of expected purchases, discounted purchases and mean spend.

    ``thetas`` / ``phis`` are parameter draws (from :func:`draw_params`), reused cyclically;
    ``spend_rule`` is an optional boolean mask of customers whose spend is forced to 0.
    ``seed`` keys the per-customer streams (with the ids of ``summary.index``).
    Returns a dict with ``purchases``, ``discounted`` and (if a spend model) ``spend``.
    """
    rng = CustomerStreams(seed, summary.index.to_numpy())
    x = summary["frequency"].to_numpy(float)
    tx = summary["recency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    n = len(x)
    n_theta = len(thetas)
    codes, ux, utx, uT = _unique_rows(x, tx, T)
    p_alive = [purchase_model._p_alive(th, ux, utx, uT)[codes] for th in thetas]
    t_grid = np.asarray(t_grid, dtype=float)
    discount = np.asarray(discount, dtype=float)
    out = {"purchases": np.empty((n_draws, n)), "discounted": np.empty((n_draws, n))}
    if spend_model is not None:
        out["spend"] = np.empty((n_draws, n))
        m = summary["monetary_value"].to_numpy(float)
    for d in range(n_draws):
        j = d % n_theta
        alive = rng.random() < p_alive[j]
        post = purchase_model._posterior_alive(thetas[j], x, T)
        cum = purchase_model._sample_cum_expected(rng, post, t_grid) * alive[:, None]
        out["purchases"][d] = cum[:, -1]
        out["discounted"][d] = discounted_sum(cum, discount)
        if spend_model is not None:
            spend = spend_model._sample_mean_spend(rng, phis[j], x, m)
            if spend_rule is not None:
                spend = np.where(spend_rule, 0.0, spend)
            out["spend"][d] = spend
    return out
