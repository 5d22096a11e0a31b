"""Sensitivity plots draw on Axes of figures built on an Agg canvas; the grid numbers behind them are R's."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from causalspec.sensitivity import (
    Benchmark,
    contour_grid,
    contour_plot,
    extreme_grid,
    extreme_plot,
    sensemakr,
)
from causalspec.sensitivity._contour import r_pretty

RES = sensemakr(0.09731582, 0.02325654, 783, benchmarks=[Benchmark("female", 0.00908, 0.109)], kd=[1, 2, 3])


@pytest.mark.parametrize("of", ["estimate", "t-value", "lwr", "upr"])
def test_contour_plot_returns_labelled_axes_without_pyplot(of):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    ax = contour_plot(RES, of)
    assert "treatment" in ax.get_xlabel() and "outcome" in ax.get_ylabel()
    assert plt.get_fignums() == before  # nothing registered with pyplot, so nothing is shown
    assert [t.get_text() for t in ax.texts if t.get_text().startswith("1x female")]


def test_extreme_plot_draws_one_curve_per_outcome_scenario():
    ax = extreme_plot(RES)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:3] == ["R²(Y~Z|D,X) = 100%", "R²(Y~Z|D,X) = 75%", "R²(Y~Z|D,X) = 50%"]


def test_figures_render_to_png(tmp_path):
    path = tmp_path / "c.png"
    contour_plot(RES).figure.savefig(path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend()  # no backend switch needed


def test_the_plots_draw_on_the_axes_they_are_given():
    from causalspec.sensitivity._plots import new_figure

    fig = new_figure((10, 5))
    left, right = fig.subplots(1, 2)
    assert contour_plot(RES, ax=left) is left and extreme_plot(RES, ax=right) is right
    assert left.has_data() and right.has_data() and len(fig.axes) == 2


def test_extreme_grid_uses_sensemakr_default_limit():
    g = extreme_grid(0.1, 0.02, 500, r2dz_x=[0.03, 0.2])
    assert g.r2dz_x[-1] == pytest.approx(0.13) and g.r2dz_x[1] == pytest.approx(0.001)
    assert g.adjusted_estimate.shape == (3, g.r2dz_x.size)


def test_contour_grid_axes_grow_with_strong_bounds():
    g = contour_grid(0.1, 0.02, 500, r2dz_x=[0.5], r2yz_dx=[0.1])
    assert g.lim_x == pytest.approx(0.6) and g.lim_y == pytest.approx(0.4)


@pytest.mark.parametrize("lo, up, n, expected", [
    (0, 1, 5, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (-11.597729544903457, 5.632875255221987, 10, [-12, -10, -8, -6, -4, -2, 0, 2, 4, 6]),
])
def test_r_pretty_matches_r(lo, up, n, expected):
    # R 4.2: pretty(c(0, 1)); the second range and its levels are from the sensemakr contour case
    assert np.allclose(r_pretty(lo, up, n), expected, rtol=1e-12, atol=1e-12)
