"""The ``regression_discontinuity`` design's schema: planned by ``causalspec.designs.regression_discontinuity``.

Every option names the ``rdrobust::rdrobust`` argument it sets (docs/regression-discontinuity.md).  The spec's
``treatment`` is the treatment received: in a sharp design the indicator running >= cutoff (checked in the data),
in a fuzzy design (``fuzzy: true``) the take-up, whose jump at the cutoff divides the outcome's
(rdrobust(fuzzy = treatment)).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from causalspec.errors import Problem, SpecError
from causalspec.spec._base import _NAME, _DesignModel, _Model

__all__ = ["RegressionDiscontinuityDesign", "RDFalsification", "BWSELECT_OPTIONS"]

BWSELECT_OPTIONS = ("mserd", "msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo", "cersum", "cercomb1",
                    "cercomb2")
_POSITIVE = Annotated[float, Field(gt=0)]
_BANDWIDTH = _POSITIVE | tuple[_POSITIVE, _POSITIVE] | None


class RDFalsification(_Model):
    """The falsification tests run after the fit (Cattaneo, Idrobo & Titiunik 2020, ch. 5): on by default."""

    enabled: bool = Field(True, description="Run the falsification tests after the fit (false: none of them).")
    density: bool = Field(True, description="The manipulation test: is the running variable's density continuous "
                                            "at the cutoff? rddensity::rddensity(X = running, c = cutoff) with its "
                                            "defaults (p = 2, jackknife standard errors).")
    balance: tuple[_NAME, ...] = Field(
        (), description="Pre-treatment columns tested as placebo outcomes at the cutoff (each by rdrobust with the "
                        "design's options, no covariates), besides the spec's covariates, which are always tested. "
                        "Rows missing one of them are left out of every fit, as covariates are.")
    placebo_cutoffs: tuple[float, ...] | None = Field(
        None, description="Placebo cutoffs: rdrobust(c = placebo) on the observations of the placebo's side of the "
                          "true cutoff only. Left out: the 25th, 50th and 75th percentiles (R's type 7) of the "
                          "running variable on each side.")
    donut: tuple[_POSITIVE, ...] | None = Field(
        None, description="Donut-hole radii: rdrobust re-run without the observations within the radius of the "
                          "cutoff (bandwidths selected again). Left out: the radii that leave out the 1%, 2.5% and "
                          "5% of observations nearest the cutoff.")
    bandwidths: tuple[_POSITIVE, ...] = Field(
        (0.5, 0.75, 1.25, 1.5, 2.0), min_length=1,
        description="Multiples of the selected (or given) bandwidth h at which the effect is re-estimated "
                    "(rdrobust(h = m * h), b = h as rdrobust sets it when h is given).")

    @field_validator("balance", "placebo_cutoffs", "donut", "bandwidths", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class RegressionDiscontinuityDesign(_DesignModel):
    """Regression discontinuity: treatment (or its probability) jumps at a cutoff of a running variable."""

    type: Literal["regression_discontinuity"] = "regression_discontinuity"
    running: _NAME = Field(..., description="The running variable (score) whose cutoff assigns the treatment "
                                            "(rdrobust x).")
    cutoff: float = Field(0.0, description="The cutoff of the running variable (rdrobust c); units at or above it "
                                           "are assigned to treatment.")
    fuzzy: bool = Field(False, description="false: sharp design, the treatment column is 1 exactly when running >= "
                                           "cutoff (checked). true: fuzzy design, the treatment column is the take-"
                                           "up, whose jump at the cutoff scales the outcome's (rdrobust(fuzzy = "
                                           "treatment)): the effect for compliers at the cutoff.")
    kernel: Literal["triangular", "epanechnikov", "uniform"] = Field(
        "triangular", description="The kernel weighting observations by their distance to the cutoff (rdrobust "
                                  "kernel).")
    p: int = Field(1, ge=0, le=8, description="Order of the local polynomial of the estimate (rdrobust p; 1: local "
                                              "linear).")
    q: int | None = Field(None, ge=1, le=9, description="Order of the local polynomial of the bias correction "
                                                        "(rdrobust q, greater than p); left out: p + 1.")
    bwselect: Literal["mserd", "msetwo", "msesum", "msecomb1", "msecomb2", "cerrd", "certwo", "cersum", "cercomb1",
                      "cercomb2"] = Field(
        "mserd", description="The bandwidth selector (rdrobust bwselect): mse* are MSE-optimal, cer* coverage-error-"
                             "rate optimal; *rd one common bandwidth, *two one per side, *sum one for the sum, comb1 "
                             "the smaller of rd and sum, comb2 the median of rd, sum and two. Not read with h.")
    h: _BANDWIDTH = Field(None, description="A fixed main bandwidth (rdrobust h): one number, or [left, right]. "
                                            "Replaces bandwidth selection.")
    b: _BANDWIDTH = Field(None, description="A fixed bias bandwidth (rdrobust b), with h only; left out: b = h.")
    rho: _POSITIVE | None = Field(None, description="b = h / rho (rdrobust rho), with a fixed or a selected h; "
                                                    "not with b.")
    nnmatch: int = Field(3, ge=1, le=100, description="Neighbours of the nearest-neighbour variance (rdrobust "
                                                      "nnmatch), read when inference.vcov is left out and no "
                                                      "cluster is given (vce = \"nn\").")
    falsification: RDFalsification = Field(default_factory=RDFalsification,
                                           description="The falsification tests run after the fit.")
    estimator: Literal["auto", "rdrobust"] = Field("auto", description="rdrobust: local polynomial RD estimation "
                                                                      "with robust bias-corrected inference "
                                                                      "(Calonico, Cattaneo & Titiunik 2014).")

    @field_validator("h", "b", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> "RegressionDiscontinuityDesign":
        problems = []
        if self.q is not None and self.q <= self.p:
            problems.append(Problem("q", f"q = {self.q} is not greater than p = {self.p}: the bias correction needs "
                                    "a higher-order polynomial than the estimate.",
                                    fix=f"Set q to {self.p + 1} or more, or leave it out (p + 1).", code="rd_order"))
        if self.b is not None and self.h is None:
            problems.append(Problem("b", "b is read only with a fixed h: rdrobust selects b together with h.",
                                    fix="Add h, or remove b (or use rho to tie b to the selected h).",
                                    code="rd_bandwidth_option"))
        if self.b is not None and self.rho is not None:
            problems.append(Problem("rho", "rho sets b = h / rho, so it cannot be given with b.",
                                    fix="Remove rho or b.", code="rd_bandwidth_option"))
        if self.h is not None and self.bwselect != "mserd":
            problems.append(Problem("bwselect", "bwselect is not read when h is given (the bandwidth is fixed).",
                                    fix="Remove bwselect, or remove h to select the bandwidth.",
                                    code="rd_bandwidth_option"))
        if problems:
            raise SpecError(problems)
        return self

    def data_columns(self) -> tuple[tuple[str, str], ...]:
        cols = [(self.running, "design.running")]
        cols += [(c, f"design.falsification.balance[{i}]") for i, c in enumerate(self.falsification.balance)]
        return tuple(cols)
