"""Execution engines for data bigger than memory: the same estimators, with the heavy aggregation pushed into
DuckDB (embedded) or Apache Spark, returning the in-memory path's numbers.  See docs/scale.md.

A :class:`Source` is the data as a view in an engine (``duckdb.source`` / ``spark.source``); the estimators take
a source and column names and return an :class:`EngineFit` (or a small record for the experiment tests):

* :func:`ols` — lm / sandwich / estimatr variances (iid, HC0-HC3, CR0 / CR1 one- and multi-way, stata);
* :func:`feols` — fixest::feols with absorbed fixed effects (iid, HC1, CR1 with fixest's small-sample rules);
* :func:`difference_in_means`, :func:`cuped`, :func:`lm_lin`, :func:`srm`, :func:`prop_test` — experiments;
* :func:`did_2x2`, :func:`att_gt` — difference in differences and Callaway & Sant'Anna's ATT(g, t).

The spec path (``engine: duckdb | spark | auto``): :func:`refusals` (plan time), :func:`open_source` (the spec's
``data:`` on a sandboxed connection), :func:`fit_plan` and :func:`fingerprint` (archives).
"""

from causalspec.engines import duckdb, spark
from causalspec.engines._did import att_gt, did_2x2
from causalspec.engines._estimators import feols, ols
from causalspec.engines._experiment import cuped, difference_in_means, lm_lin, prop_test, srm
from causalspec.engines._ols import ENGINE_VCOV, EngineFit
from causalspec.engines._sql import Backend, Sample, Source
from causalspec.engines._open import budget, choose_engine, fingerprint, open_source, to_frame
from causalspec.engines._plan import fit_plan, memory_data_problems, query_problems, refusals

__all__ = ["Backend", "Source", "Sample", "EngineFit", "ENGINE_VCOV", "duckdb", "spark", "ols", "feols",
           "difference_in_means", "cuped", "lm_lin", "srm", "prop_test", "did_2x2", "att_gt",
           "open_source", "fingerprint", "choose_engine", "budget", "to_frame", "refusals", "fit_plan",
           "memory_data_problems", "query_problems"]
