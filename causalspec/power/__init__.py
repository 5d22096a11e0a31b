"""Design-of-experiments numbers: power, minimum detectable effects and sample sizes for means and
proportions (``stats::power.t.test``, ``stats::power.prop.test``), cluster-randomised designs, and the checks
of a running A/B test (sample-ratio mismatch, ``prop.test``, CUPED, ratio metrics, seeded randomisation).
Arrays and numbers in, frozen dataclasses out; no Spec, Plan or Result.  docs/power.md has examples.

>>> from causalspec import power
>>> round(power.sample_size_means(delta=1, sd=10, power=0.8).n, 3)
1570.737
"""

from causalspec.power._abtest import *  # noqa: F401,F403  (each module's __all__ is the public list)
from causalspec.power._abtest import __all__ as _abtest_all
from causalspec.power._api import *  # noqa: F401,F403
from causalspec.power._api import __all__ as _api_all
from causalspec.power._power import *  # noqa: F401,F403
from causalspec.power._power import __all__ as _power_all

__all__ = [*_api_all, *_power_all, *_abtest_all]
