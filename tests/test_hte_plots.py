"""The heterogeneity figures take ``ax=`` and return the Axes they drew on (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from causalspec.heterogeneity import (GroupEffect, plot_cate_distribution, plot_group_effects, plot_uplift,
                                      plot_value_curve)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def test_each_figure_draws_on_the_axes_it_is_given():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    n = 200
    cate, t = rng.normal(size=n), rng.binomial(1, 0.5, n)
    y = rng.binomial(1, 0.3 + 0.1 * t * (cate > 0))
    fig, axes = plt.subplots(2, 2)
    rows = (GroupEffect("a", 0.1, 0.05, 0.0, 0.2, 100, 50, 50), GroupEffect("b", -0.1, 0.05, -0.2, 0.0, 100, 50, 50))
    drawn = [plot_cate_distribution(cate, ax=axes[0, 0], ate=0.0), plot_group_effects(rows, ax=axes[0, 1]),
             plot_uplift(y, cate, t, ax=axes[1, 0]), plot_value_curve(cate, cate, 10, 1, ax=axes[1, 1], budget=0.3)]
    assert drawn == list(axes.ravel())
    assert all(ax.has_data() for ax in drawn)
    plt.close("all")
    before = plt.get_fignums()
    assert plot_uplift(y, cate, t, kind="uplift").get_title() == "Uplift curve"
    assert plt.get_fignums() == before  # a new figure is not registered with pyplot, so none leaks
