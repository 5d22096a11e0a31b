"""The interrupted time series design (issue 16): segmented regression with level and slope changes at each
interruption, optional seasonality and a comparison series, Newey-West / AR(1) GLS / OLS variances matching
sandwich and nlme, and falsification checks (placebo interruptions, Breusch-Godfrey, pre-period length)."""

from causalspec.designs._family import Family
from causalspec.designs.interrupted_time_series.fit import fit_segmented
from causalspec.designs.interrupted_time_series.plan import SENSITIVITY_OFF, its_vcov, plan_interrupted_time_series
from causalspec.planner import Estimator

FAMILY = Family(type="interrupted_time_series", plan=plan_interrupted_time_series,
                fitters={Estimator.SEGMENTED: fit_segmented}, vcov=its_vcov, default_refutations=(),
                sensitivity_off=SENSITIVITY_OFF, figures=("estimates", "its_plot"))
