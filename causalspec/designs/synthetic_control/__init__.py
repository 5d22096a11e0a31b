"""The synthetic control design (issue 16): Synth for one treated unit with its placebo inference (in-space,
leave-one-out, in-time), and synthetic difference in differences (with SC and DiD beside it) for one or several
treated units adopting together; see docs/synthetic-control.md."""

from causalspec.designs._family import Family
from causalspec.designs.synthetic_control.checks import placebo_check
from causalspec.designs.synthetic_control.fit import fit_synth, fit_synthdid
from causalspec.designs.synthetic_control.plan import SENSITIVITY_OFF, plan_synthetic_control, sc_vcov
from causalspec.planner import Estimator

FAMILY = Family(type="synthetic_control", plan=plan_synthetic_control,
                fitters={Estimator.SYNTH: fit_synth, Estimator.SYNTHDID: fit_synthdid}, vcov=sc_vcov,
                checks=(placebo_check,), default_refutations=(), sensitivity_off=SENSITIVITY_OFF,
                figures=("estimates", "sc_path", "sc_gaps", "sc_weights", "sdid_trends"))
