"""Coefficient figures of one or several results, like fixest's ``coefplot`` and ``iplot``: a point and its
confidence interval per term (or per relative period), several results dodged side by side with a legend.

Every number drawn is the Result's own (``coefficients``, ``extras["event_study"]``): intervals are at each
result's own level (``plan.vcov.level``), nothing is re-computed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from causalspec.errors import UnsupportedError
from causalspec.report._event_study import event_study_rows
from causalspec.report._tables import select_terms
from causalspec.sensitivity._plots import new_axes

__all__ = ["coefplot", "iplot", "forest", "named_results", "PALETTE"]

PALETTE = ("#1f4e79", "#c0504d", "#2c7a2c", "#8064a2", "#d98c1f", "#4bacc6", "#7f7f7f")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def named_results(results, names: Sequence[str] | None = None) -> tuple[list, list[str]]:
    """The results as a list and their names: a Mapping's keys, ``names``, or each plan's name."""
    if isinstance(results, Mapping):
        if names is not None:
            raise UnsupportedError("names were given twice: as the mapping's keys and as names=.", loc="names",
                                   fix="Pass a list of results with names=, or a mapping {name: result}.")
        names, results = [str(k) for k in results], list(results.values())
    elif hasattr(results, "plan"):  # one result
        results = [results]
    else:
        results = list(results)
    if not results:
        raise UnsupportedError("no results were given.", fix="Pass a result, a list of results or a mapping "
                               "{name: result}.")
    if names is None:
        names = [str(getattr(r.plan, "name", f"({i + 1})")) for i, r in enumerate(results)]
    names = list(names)
    if len(names) != len(results):
        raise UnsupportedError(f"{len(names)} names for {len(results)} results.", loc="names",
                               fix="Give one name per result.")
    return results, names


def _level_label(results) -> str:
    levels = {r.plan.vcov.level for r in results}
    return f"{levels.pop():.0%} CI" if len(levels) == 1 else "CI at each result's level"


def forest(ax, labels: Sequence[str], series: Sequence[tuple[str, Sequence]], *, dodge: float = 0.18):
    """Draw a forest plot on ``ax``: one row per label (top to bottom), for each named series a point and interval
    per row (``(estimate, low, high)`` or None where the series has no such row), series dodged within the row."""
    k = len(series)
    for j, (name, points) in enumerate(series):
        offset = (j - (k - 1) / 2) * dodge
        drawn = [(i, p) for i, p in enumerate(points) if p is not None]
        if not drawn:
            continue
        ys = [i + offset for i, _ in drawn]
        est = [p[0] for _, p in drawn]
        ax.errorbar(est, ys, xerr=[[p[0] - p[1] for _, p in drawn], [p[2] - p[0] for _, p in drawn]],
                    fmt=_MARKERS[j % len(_MARKERS)], color=PALETTE[j % len(PALETTE)], capsize=3, ms=5, lw=1.2,
                    label=name if k > 1 else None)
    ax.axvline(0.0, color="#999999", lw=0.8, ls="--")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # the first row on top
    if k > 1:
        ax.legend(frameon=False, fontsize=8, loc="best")
    return ax


def coefplot(results, terms: Sequence[str] | None = None, *, keep: Sequence[str] | str | None = None,
             drop: Sequence[str] | str | None = None, order: Sequence[str] | str | None = None,
             dict: Mapping[str, str] | None = None, names: Sequence[str] | None = None, intercept: bool = False,
             title: str | None = None, ax=None):
    """Coefficient (forest) plot of one or several results: each term's estimate and confidence interval, one row
    per term, the results dodged within a row with a legend (fixest's ``coefplot``).

    Parameters
    ----------
    results : Result, sequence of Results, or mapping {name: Result}
    terms : the terms to draw, in this order (default: every coefficient, the intercept left out unless
        ``intercept=True``).
    keep, drop, order, dict : as in :func:`etable` (regular expressions searched in the renamed term; keep first,
        then drop; ``order`` puts the terms matching its first pattern first, ...; ``dict`` renames terms).
    names : legend labels (default: each result's spec name).
    ax : the Axes to draw on (a new figure when None).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import causalspec as cs
    >>> a = cs.run("specs/feature_adoption.yaml", refute=False)                     # doctest: +SKIP
    >>> ax = coefplot(a, drop=["region"], dict={"feature_usage": "uses the feature"})  # doctest: +SKIP
    >>> ax.figure.savefig("coefplot.png")                                          # doctest: +SKIP
    """
    results, names = named_results(results, names)
    by_result = [{e.term: e for e in r.coefficients} for r in results]
    if terms is None:  # every term in order of first appearance (dict is etable's argument name here)
        every = [e.term for r in results for e in r.coefficients if intercept or e.term != "(Intercept)"]
        terms = [t for i, t in enumerate(every) if t not in every[:i]]
    else:
        unknown = [t for t in terms if not any(t in b for b in by_result)]
        if unknown:
            have = sorted({t for b in by_result for t in b})
            raise UnsupportedError(f"no result has the term(s) {unknown}.", loc="terms",
                                   fix=f"Name terms the results have: {have}.")
    rename = dict or {}
    shown = select_terms(list(terms), keep=keep, drop=drop, order=order, rename=rename)
    if not shown:
        raise UnsupportedError("keep / drop leave no term to plot.", loc="keep",
                               fix="Loosen keep or drop (they are regular expressions searched in each term).")
    ax = new_axes(ax, (6.5, 0.45 * len(shown) * max(1, 0.6 * len(results)) + 1.4), what="coefplot")
    series = [(name, [None if t not in b else (b[t].estimate, b[t].conf_low, b[t].conf_high) for t in shown])
              for name, b in zip(names, by_result)]
    forest(ax, [rename.get(t, t) for t in shown], series)
    ax.set_xlabel(f"estimate ({_level_label(results)})")
    if title is not None or len(results) == 1:
        ax.set_title(title or f"Coefficients: {names[0]}", fontsize=10)
    return ax


def iplot(results, *, names: Sequence[str] | None = None, sep: float = 0.15, title: str | None = None, ax=None):
    """Event-study coefficients of several results on one Axes (fixest's ``iplot``): for each relative period each
    result's estimate and confidence interval (at that result's level), the results dodged by ``sep`` periods,
    the reference period marked (a hollow point at zero and a dotted line), and a legend with the names.

    ``results`` are Results of ``event_study`` designs (e.g. the TWFE event study and Sun and Abraham's
    estimator on the same data), as a sequence (``names`` label them; default: each spec's name) or a mapping
    {name: Result}.  Draws on ``ax`` (a new figure when None) and returns the Axes.

    Examples
    --------
    >>> import causalspec as cs
    >>> twfe = cs.run("specs/mpdta_event_study.yaml", refute=False)        # doctest: +SKIP
    >>> sa = cs.run("specs/mpdta_sun_abraham.yaml", refute=False)          # doctest: +SKIP
    >>> ax = iplot({"TWFE": twfe, "Sun and Abraham": sa})                  # doctest: +SKIP
    >>> ax.figure.savefig("iplot.png")                                     # doctest: +SKIP
    """
    results, names = named_results(results, names)
    tables = [event_study_rows(r) for r in results]
    ax = new_axes(ax, (7.5, 4.4), what="iplot")
    k = len(results)
    ax.axhline(0.0, color="#888888", lw=0.8)
    for ref in sorted({ref for _, ref in tables}):
        ax.axvline(ref, color="#bbbbbb", lw=0.9, ls=":")
    levels = {r.plan.vcov.level for r in results}
    for j, ((rows, ref), name, r) in enumerate(zip(tables, names, results)):
        offset = (j - (k - 1) / 2) * sep
        colour, marker = PALETTE[j % len(PALETTE)], _MARKERS[j % len(_MARKERS)]
        xs = [row["relative_time"] + offset for row in rows]
        est = [row["estimate"] for row in rows]
        label = name if len(levels) == 1 else f"{name} ({r.plan.vcov.level:.0%} CI)"
        ax.errorbar(xs, est, yerr=[[row["estimate"] - row["conf_low"] for row in rows],
                                   [row["conf_high"] - row["estimate"] for row in rows]],
                    fmt=marker, color=colour, capsize=2.5, ms=5, lw=1.1, label=label)
        ax.plot([ref + offset], [0.0], marker, mfc="white", mec=colour, ms=5)
    periods = sorted({row["relative_time"] for rows, _ in tables for row in rows} | {ref for _, ref in tables})
    ax.set_xticks(periods)
    ax.annotate("reference", (min(ref for _, ref in tables), 0.0), textcoords="offset points", xytext=(0, 8),
                ha="center", fontsize=8, color="#555555")
    ax.set_xlabel("periods relative to treatment")
    outcomes = sorted({r.plan.outcome for r in results})
    ax.set_ylabel(f"effect on {', '.join(outcomes)}" + (f" ({levels.pop():.0%} CI)" if len(levels) == 1 else ""))
    ax.set_title(title or "Event study: " + " vs ".join(names), fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax
