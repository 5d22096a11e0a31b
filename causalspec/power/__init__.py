"""Design-of-experiments numbers: power, minimum detectable effects, sample sizes (``stats::power.t.test``,
``pwr``), and the randomisation checks of an A/B test (sample-ratio mismatch, ``prop.test``, CUPED, ratio
metrics).  Arrays in, frozen dataclasses out; no Spec, Plan or Result."""

from causalspec.power._abtest import *  # noqa: F401,F403  (each module's __all__ is the public list)
from causalspec.power._abtest import __all__ as _abtest_all
from causalspec.power._power import *  # noqa: F401,F403
from causalspec.power._power import __all__ as _power_all

__all__ = [*_power_all, *_abtest_all]
