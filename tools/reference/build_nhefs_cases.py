"""Build the Hernán & Robins NHEFS parity cases (run by hand, never at test time).

Hernán MA, Robins JM, *Causal Inference: What If* (Boca Raton: Chapman & Hall/CRC), chapters 12, 13 and 15,
estimate the effect of quitting smoking (``qsmk``) on weight gain (``wt82_71``, kg) in the NHEFS data.  This
script

* exports the NHEFS data the book's web site distributes, as the ``causaldata`` package ships it, to
  ``tests/parity/data/nhefs.csv`` (all 1629 individuals; the columns the book's models use, plus ``seqn``,
  ``death`` and ``wt82``), optionally checking every exported value against the book's own ``nhefs.dta``;
* writes ``tests/parity/cases/hernan_robins_nhefs_<chapter>.json``: the numbers the book prints, each with the
  text it is printed as (its precision), the sentence it comes from, the model the book's code fits, and whether
  causalspec can express it (``causalspec.status``: reproduced / differs / not_expressible, with the reason).

causaldata is needed only here; install it in a separate environment, never in causalspec's::

    python3 -m venv /tmp/nhvenv && /tmp/nhvenv/bin/pip install causaldata
    /tmp/nhvenv/bin/python tools/reference/build_nhefs_cases.py \\
        [--book-dta /tmp/book_nhefs.dta]   # git show HEAD:data/nhefs.dta in a clone of remlapmot/cibookex-r

Where the numbers come from.  The book's numbers are copied by hand, below, with the sentence each comes from
(the book's text as it reads in chapters 12, 13 and 15).  The model specifications are those of the book's R code
(Joy Shi and Sean McGrath; as rendered, with output, by Tom Palmer in remlapmot/cibookex-r) and Python code
(James Fiedler, jrfiedler/causal_inference_python_code, "checked against the 30 March 2021 version of the book").
A few numbers printed by that R code's rendered output (``code_output``), at the precision it prints, check the
same fits more tightly than the book's one decimal.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "parity"
DATA_FILE = "data/nhefs.csv"
COLUMNS = ["seqn", "qsmk", "death", "sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise",
           "active", "wt71", "wt82", "wt82_71"]
INTEGER_COLUMNS = COLUMNS[:11]

BOOK = "Hernán MA, Robins JM. Causal Inference: What If. Boca Raton: Chapman & Hall/CRC"
R_CODE = {"repository": "https://github.com/remlapmot/cibookex-r",
          "commit": "bb7a94ad1e02ae2e6f589b58444395749cbbf6a6",
          "authors": "R code by Joy Shi and Sean McGrath (the book site's Rcode_CIpart2.zip), rendered with its "
                     "output by Tom Palmer (R 4.6.1)"}
PY_CODE = {"repository": "https://github.com/jrfiedler/causal_inference_python_code",
           "commit": "8a7965a7eaea911218bd5cdeb74dadcb6a05be4d",
           "authors": "James Fiedler; 'checked against the 30 March 2021 version of the book' (its README)"}
PAGES_NOTE = ("page numbers, where given, are those Fiedler's notebooks cite (the 30 March 2021 version of the "
              "book); the sections are the book's")

PS_FORMULA = ("qsmk ~ sex + race + age + I(age^2) + as.factor(education) + smokeintensity + I(smokeintensity^2) + "
              "smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) + wt71 + I(wt71^2)")
OUTCOME_FORMULA = ("wt82_71 ~ qsmk + sex + race + age + I(age^2) + as.factor(education) + smokeintensity + "
                   "I(smokeintensity^2) + smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) + "
                   "wt71 + I(wt71^2)")
CONFOUNDERS = "L: sex, age, race, education, smokeintensity, smokeyrs, exercise, active, wt71 (the book's 9 covariates)"


def _abs_tol(printed: str) -> float:
    """Half a unit in the last printed digit."""
    return 0.5 * 10.0 ** Decimal(printed).as_tuple().exponent


def number(key: str, section: str, printed: str, quote: str, quantity: str, *, status: str, recipe: str = "",
           why: str = "") -> dict:
    """One published number: its text fixes its precision; ``causalspec`` says how (or why not) it is computed."""
    item = {"key": key, "section": section, "quantity": quantity, "quote": quote, "printed": printed,
            "value": float(printed), "abs_tol": _abs_tol(printed),
            "causalspec": {"status": status}}
    if recipe:
        item["causalspec"]["recipe"] = recipe
    if why:
        item["causalspec"]["why"] = why
    return item


# ---------------------------------------------------------------------------------------------------- chapter 12
IPW = ("design.estimator ipw with design.propensity_model = the book's terms (logit): normalised (Hajek) IP "
       "weighting, each arm's weights summing to one")
W_QUOTE = "The estimated IP weights W^A ranged from 1.05 to 16.7, and their mean was 2.00."
SW_QUOTE = "The estimated IP weights SW^A ranged from 0.33 to 4.30, and their mean was 1.00."
CH12 = [
    number("naive_difference", "12.1", "2.5",
           "The difference E[Y|A = 1] - E[Y|A = 0] was therefore estimated to be 2.5, with a 95% confidence "
           "interval from 1.7 to 3.4.", "unadjusted difference in mean weight gain, lm(wt82_71 ~ qsmk)",
           status="reproduced", recipe="result.naive of an ols fit with inference.vcov iid"),
    number("naive_difference_ci_low", "12.1", "1.7", "... with a 95% confidence interval from 1.7 to 3.4.",
           "its 95% CI, lower bound", status="reproduced", recipe="result.naive.conf_low, vcov iid"),
    number("naive_difference_ci_high", "12.1", "3.4", "... with a 95% confidence interval from 1.7 to 3.4.",
           "its 95% CI, upper bound", status="reproduced", recipe="result.naive.conf_high, vcov iid"),
    number("w_min", "12.2", "1.05", W_QUOTE,
           "nonstabilised weights 1/f(A|L): minimum", status="reproduced",
           recipe=f"{IPW}; extras['ipw_weights']['unnormalized']"),
    number("w_max", "12.2", "16.7", W_QUOTE,
           "nonstabilised weights: maximum", status="reproduced", recipe="extras['ipw_weights']['unnormalized']"),
    number("w_mean", "12.2", "2.00", W_QUOTE,
           "nonstabilised weights: mean", status="reproduced", recipe="extras['ipw_weights']['unnormalized']"),
    number("theta1_w", "12.2", "3.4", "The parameter estimate theta_1 was 3.4.",
           "IP weighted difference, geeglm(wt82_71 ~ qsmk, weights = w, id = seqn, corstr = 'independence')",
           status="reproduced",
           recipe=f"{IPW}: result.effect.estimate (WLS of y on t with w = 1/f(A|L) is the difference of the "
                  "arms' weighted means, which is what normalised IPW computes)"),
    number("theta1_w_ci_low", "12.2", "2.4", "The conservative 95% confidence interval around theta_1 was (2.4, 4.5).",
           "geeglm's robust (sandwich) 95% CI, weights held fixed: lower bound", status="reproduced",
           recipe="ipw with inference.vcov HC0 (estimatr::lm_robust(y ~ t, weights = w, se_type = 'HC0'), the "
                  "weights held fixed = geeglm's sandwich); the default M-estimation CI, which accounts for the "
                  "estimated propensity score, is narrower (2.49, 4.40), as the book says the robust one is "
                  "conservative"),
    number("theta1_w_ci_high", "12.2", "4.5", "The conservative 95% confidence interval around theta_1 was (2.4, 4.5).",
           "geeglm's robust 95% CI: upper bound", status="reproduced", recipe="ipw, inference.vcov HC0"),
    number("n_treated", "12.3", "403", "We can obtain a nonparametric estimate by the ratio 403/1566 ...",
           "number of quitters among the 1566", status="reproduced",
           recipe="extras['ipw_weights']['summary']['treated']['n']"),
    number("n_uncensored", "12.3", "1566", "We can obtain a nonparametric estimate by the ratio 403/1566 ...",
           "individuals with wt82 measured", status="reproduced", recipe="result.nobs"),
    number("sw_min", "12.3", "0.33", SW_QUOTE,
           "stabilised weights f(A)/f(A|L): minimum", status="reproduced",
           recipe="extras['ipw_weights']['stabilized'] (unnormalised times the arm's share)"),
    number("sw_max", "12.3", "4.30", SW_QUOTE,
           "stabilised weights: maximum", status="reproduced", recipe="extras['ipw_weights']['stabilized']"),
    number("sw_mean", "12.3", "1.00", SW_QUOTE,
           "stabilised weights: mean", status="reproduced", recipe="extras['ipw_weights']['stabilized']"),
    number("theta1_sw", "12.3", "3.4", "... we estimated that quitting smoking increases weight by theta_1 = 3.4 kg "
           "(95% confidence interval: 2.4, 4.5) on average. This is the same estimate we obtained earlier using "
           "the nonstabilized IP weights", "IP weighted difference with stabilised weights (geeglm, weights = sw)",
           status="reproduced",
           recipe="ipw: stabilising multiplies each arm's weights by a constant, which normalised IPW divides out, "
                  "so the estimate is the same"),
    number("theta1_sw_ci_low", "12.3", "2.4", "(95% confidence interval: 2.4, 4.5)",
           "robust 95% CI with stabilised weights: lower bound", status="reproduced",
           recipe="ipw, inference.vcov HC0 (in the saturated model y ~ t the sandwich is unchanged by rescaling "
                  "an arm's weights)"),
    number("theta1_sw_ci_high", "12.3", "4.5", "(95% confidence interval: 2.4, 4.5)",
           "robust 95% CI with stabilised weights: upper bound", status="reproduced", recipe="ipw, vcov HC0"),
    number("msm_logistic_or", "12.4", "1.0", "We estimated the causal odds ratio to be exp(theta_1) = 1.0 (95% "
           "confidence interval: 0.8, 1.4).",
           "marginal structural logistic model geeglm(death ~ qsmk, family = binomial, weights = sw): odds ratio",
           status="reproduced",
           recipe="ipw with outcome death: the saturated weighted logistic model's exp(theta_1) is the odds ratio "
                  "of the two potential-outcome means, computed from the POmean:0 / POmean:1 rows (causalspec "
                  "reports the risk difference as the effect; the odds ratio is derived from its output)"),
    number("msm_logistic_or_ci_low", "12.4", "0.8", "(95% confidence interval: 0.8, 1.4)", "odds ratio CI, lower",
           status="not_expressible",
           why="causalspec's ipw reports the risk difference and the potential-outcome means with their SEs, not "
               "the covariance of the two means nor a log-odds-ratio contrast, so the odds ratio's interval "
               "cannot be formed from its output"),
    number("msm_logistic_or_ci_high", "12.4", "1.4", "(95% confidence interval: 0.8, 1.4)", "odds ratio CI, upper",
           status="not_expressible", why="as msm_logistic_or_ci_low"),
    number("cont_sw_min", "12.4", "0.19", "The estimated SW^A ranged from 0.19 to 5.10 with mean 1.00.",
           "continuous treatment smkintensity82_71 (1162 with smokeintensity <= 25): stabilised density weights",
           status="not_expressible",
           why="IP weighting of a continuous treatment (normal densities f(A)/f(A|L)) and a nonsaturated MSM "
               "E[Y^a] = b0 + b1 a + b2 a^2 are outside causalspec: ipw takes a binary treatment, and the data "
               "set exported here omits smkintensity82_71"),
    number("cont_beta0", "12.4", "2.005", "Our IP weighted estimates of the parameters of the marginal structural "
           "model were beta_0 = 2.005, beta_1 = -0.109, and beta_2 = 0.003.", "dose-response MSM: intercept",
           status="not_expressible", why="as cont_sw_min"),
    number("cont_beta1", "12.4", "-0.109", "... beta_1 = -0.109 ...", "dose-response MSM: linear term",
           status="not_expressible", why="as cont_sw_min"),
    number("cont_beta2", "12.4", "0.003", "... beta_2 = 0.003.", "dose-response MSM: quadratic term",
           status="not_expressible", why="as cont_sw_min"),
    number("cont_effect_20", "12.4", "-1.1", "The estimate of E[Y^{a=20}] - E[Y^{a=0}] is therefore 0.9 - 2.0 = "
           "-1.1 kg.", "effect of +20 cigarettes/day vs no change", status="not_expressible", why="as cont_sw_min"),
    number("sex_modification_ci_low", "12.5", "-2.2", "... the 95% confidence interval around the parameter "
           "estimate theta_2 was (-2.2, 1.9).",
           "MSM E[Y|A,V] = t0 + t1 A + t2 V A + t3 V with weights SW^A(V) = f(A|V)/f(A|L): product term, lower",
           status="not_expressible",
           why="heterogeneity (effect modification) is fitted by OLS regression adjustment only: with estimator "
               "ipw the plan refuses it at 'heterogeneity' (UnsupportedError), and there is no option for the "
               "numerator model f(A|V) of the weights"),
    number("sex_modification_ci_high", "12.5", "1.9", "... (-2.2, 1.9).", "the same CI, upper bound",
           status="not_expressible", why="as sex_modification_ci_low"),
    number("ipw_censoring_effect", "12.6 / 13.4", "3.5", "After rounding to one decimal place, the estimated "
           "weight gain due to smoking cessation was 3.5 kg regardless of whether we fit a model for treatment A "
           "(IP weighting) or for the outcome Y (standardization).",
           "IP weighting for treatment and censoring, SW^{A,C} = SW^A x SW^C, all 1629 in the models (12.6; "
           "the R code's output: 3.496, 95% CI 2.47 to 4.53)", status="not_expressible",
           why="no censoring (missing-outcome) model: causalspec drops the 63 rows whose outcome is missing and "
               "counts them in result.dropped; IP weights for censoring W^C = 1/Pr[C = 0 | L, A] have no spec "
               "field"),
]
CH12_CODE = [  # docs/12-ipw-msm-r.md of remlapmot/cibookex-r
    number("r_w_min", "Program 12.2", "1.054", "summary(nhefs.nmv$w): Min. 1.054", "W^A minimum",
           status="reproduced", recipe="extras['ipw_weights']['unnormalized']"),
    number("r_w_mean", "Program 12.2", "1.996", "summary(nhefs.nmv$w): Mean 1.996", "W^A mean",
           status="reproduced", recipe="extras['ipw_weights']['unnormalized']"),
    number("r_w_max", "Program 12.2", "16.700", "summary(nhefs.nmv$w): Max. 16.700", "W^A maximum",
           status="reproduced", recipe="extras['ipw_weights']['unnormalized']"),
    number("r_w_sd", "Program 12.2", "1.474787", "sd(nhefs.nmv$w): 1.474787", "W^A standard deviation",
           status="reproduced", recipe="sample SD of extras['ipw_weights']['unnormalized']"),
    number("r_msm_w_intercept", "Program 12.2", "1.7800", "summary(msm.w): (Intercept) 1.7800",
           "geeglm intercept = IP weighted mean among non-quitters", status="reproduced",
           recipe="ipw: the POmean:0 row"),
    number("r_msm_w_qsmk", "Program 12.2", "3.4405", "summary(msm.w): qsmk 3.4405", "geeglm qsmk estimate",
           status="reproduced", recipe="ipw: result.effect.estimate"),
    number("r_msm_w_se", "Program 12.2", "0.5255", "summary(msm.w): qsmk Std.err 0.5255",
           "geeglm robust SE (weights held fixed)", status="reproduced",
           recipe="ipw with inference.vcov HC0: result.effect.std_error"),
    number("r_msm_w_lcl", "Program 12.2", "2.411", "cbind(beta, lcl, ucl): qsmk 3.441 2.411 4.47",
           "beta - qnorm(0.975) SE", status="reproduced", recipe="ipw, vcov HC0: result.effect.conf_low"),
    number("r_msm_w_ucl", "Program 12.2", "4.47", "cbind(beta, lcl, ucl): qsmk 3.441 2.411 4.47",
           "beta + qnorm(0.975) SE", status="reproduced", recipe="ipw, vcov HC0: result.effect.conf_high"),
    number("r_sw_min", "Program 12.3", "0.331", "summary(nhefs.nmv$sw): Min. 0.331", "SW^A minimum",
           status="reproduced", recipe="extras['ipw_weights']['stabilized']"),
    number("r_sw_mean", "Program 12.3", "0.999", "summary(nhefs.nmv$sw): Mean 0.999", "SW^A mean",
           status="reproduced", recipe="extras['ipw_weights']['stabilized']"),
    number("r_sw_max", "Program 12.3", "4.298", "summary(nhefs.nmv$sw): Max. 4.298", "SW^A maximum",
           status="reproduced", recipe="extras['ipw_weights']['stabilized']"),
    number("r_msm_sw_se", "Program 12.3", "0.525", "summary(msm.sw): qsmk 3.441 0.525",
           "geeglm robust SE with stabilised weights", status="reproduced",
           recipe="ipw with inference.vcov HC0: result.effect.std_error"),
    number("r_msm_logistic_intercept", "Program 12.5", "-1.4905", "summary(msm.logistic): (Intercept) -1.4905",
           "logit of the IP weighted risk of death among non-quitters", status="reproduced",
           recipe="ipw with outcome death: logit(POmean:0)"),
    number("r_msm_logistic_qsmk", "Program 12.5", "0.0301", "summary(msm.logistic): qsmk 0.0301",
           "log odds ratio", status="reproduced", recipe="ipw with outcome death: logit(POmean:1) - logit(POmean:0)"),
]

# ---------------------------------------------------------------------------------------------------- chapter 13
POOLED = ("design.estimator ols with design.outcome_model = the book's terms and heterogeneity.modifiers "
          "[smokeintensity]: lm(wt82_71 ~ qsmk + L terms + qsmk:smokeintensity_c), smokeintensity centred at its "
          "mean, so the coefficient of qsmk is alpha_1 + alpha_2 mean(smokeintensity): exactly the standardised "
          "(g-formula) effect of the book's pooled model, standardised to the 1566 it is fitted on")
CH13 = [
    number("pred_24770", "13.2", "0.34", "... had a mean weight gain of 0.34 kg (the individual with unique "
           "identifier 24770 ...)", "the pooled outcome model's prediction for individual 24770",
           status="not_expressible", why="causalspec does not return the outcome model's fitted values"),
    number("pred_mean", "13.2", "2.6", "Overall, the mean of the estimated weight gain was 2.6 kg, same as the mean "
           "of the observed weight gain", "mean fitted value", status="not_expressible",
           why="fitted values are not returned (the mean of the fitted values of an lm with an intercept is the "
               "mean outcome, a descriptive statistic)"),
    number("std_mean_untreated", "13.3", "1.66", "The average predicted value in the second block - the "
           "standardized mean in the untreated - was 1.66", "standardised mean under A = 0 (pooled model, "
           "averaged over all 1629 individuals)", status="not_expressible",
           why="the pooled model's standardised means are not reported: ols reports the effect, not "
               "potential-outcome means; ra reports POmean rows but of arm-specific models averaged over the "
               "1566 (1.765 and 5.201); and the book averages the predictions over all 1629 individuals, "
               "including the 63 whose outcome is missing, while causalspec drops those rows before fitting"),
    number("std_mean_treated", "13.3", "5.18", "... and the average predicted value in the third block - the "
           "standardized mean in the treated - was 5.18.", "standardised mean under A = 1", status="not_expressible",
           why="as std_mean_untreated"),
    number("std_effect", "13.3", "3.5", "Therefore, our estimate of the causal effect E[Y^{a=1,c=0}] - "
           "E[Y^{a=0,c=0}] was 5.18 - 1.66 = 3.5 kg.",
           "parametric g-formula with the pooled model (qsmk and qsmk x smokeintensity)", status="reproduced",
           recipe=POOLED + " (3.517; the book's 1629-individual standardisation gives 3.5186, the R output's "
                           "5.178841 - 1.660267, also reproduced below with heterogeneity.at = the 1629 mean)"),
    number("std_effect_ci_low", "13.3", "2.6", "In summary, we estimated that quitting smoking increases body "
           "weight by 3.5 kg (95% confidence interval: 2.6, 4.5).",
           "nonparametric bootstrap 95% CI (1000 samples of the 1629), lower bound", status="reproduced",
           recipe="the same ols fit, default vcov HC2 (a sandwich, what the bootstrap SE estimates; the iid "
                  "interval (2.65, 4.38) rounds to (2.7, 4.4))"),
    number("std_effect_ci_high", "13.3", "4.5", "(95% confidence interval: 2.6, 4.5)",
           "bootstrap 95% CI, upper bound", status="reproduced", recipe="the same ols fit, vcov HC2"),
    number("std_effect_ra", "13.3", "3.5", "... was 5.18 - 1.66 = 3.5 kg.",
           "the same number, tried with causalspec's regression adjustment (Stata teffects ra)",
           status="differs",
           recipe="design.estimator ra with design.outcome_model = the book's terms",
           why="ra fits the outcome model in each arm, i.e. the pooled model with qsmk interacted with every "
               "term (20 product terms), not the book's single qsmk x smokeintensity product term; the book's "
               "model is not saturated in the interactions, so the two g-formulas differ: ra gives 3.436 "
               "(POmeans 1.765, 5.201), which prints as 3.4, 0.082 kg (2.3%) below the pooled model's 3.517 "
               "on the same 1566, 1.8% below the printed 3.5"),
    number("summary_mean_quit", "13.5", "5.2", "Using both IP weighting and the parametric g-formula we estimated "
           "that the mean weight gain would have been 5.2 kg if everybody had quit smoking compared with 1.7 kg "
           "if nobody had quit smoking.", "13.3's standardised means, rounded", status="not_expressible",
           why="as std_mean_untreated"),
    number("summary_mean_noquit", "13.5", "1.7", "... compared with 1.7 kg if nobody had quit smoking.",
           "13.3's standardised mean under A = 0, rounded", status="not_expressible", why="as std_mean_untreated"),
    number("summary_ci_low", "13.5", "2.5", "Both methods estimated that quitting smoking increases weight by 3.5 kg "
           "(95% confidence interval: 2.5, 4.5) on average in this particular population.",
           "the interval of 12.6's IP weighting for treatment and censoring (the R output: 2.47, 4.53)",
           status="not_expressible", why="censoring weights (see 12.6)"),
]
CH13_CODE = [  # docs/13-stand-gformula-r.md
    number("r_alpha_qsmk", "Program 13.1", "2.5595941", "summary(fit): qsmk 2.5595941 0.8091486",
           "pooled model: coefficient of qsmk (the effect at smokeintensity 0)", status="reproduced",
           recipe="ols + heterogeneity smokeintensity, at 0 (vcov iid)"),
    number("r_alpha_qsmk_se", "Program 13.1", "0.8091486", "summary(fit): qsmk 2.5595941 0.8091486",
           "its glm (iid) standard error", status="reproduced", recipe="the same, conditional effect SE"),
    number("r_alpha_product", "Program 13.1", "0.0466628", "summary(fit): qsmk:smokeintensity 0.0466628 0.0351448",
           "pooled model: product term", status="reproduced",
           recipe="extras['heterogeneity']['interactions'] (centring does not change a product term)"),
    number("r_alpha_product_se", "Program 13.1", "0.0351448",
           "summary(fit): qsmk:smokeintensity 0.0466628 0.0351448", "its iid SE", status="reproduced",
           recipe="extras['heterogeneity']['interactions'], vcov iid"),
    number("r_std_effect_1629", "Program 13.3", "3.518574",
           "mean(predicted_meanY[interv == 1]) 5.178841 - mean(predicted_meanY[interv == 0]) 1.660267",
           "standardised effect over all 1629 individuals (difference of the two printed means; tolerance the "
           "sum of their half units, 1e-6)", status="reproduced",
           recipe="ols + heterogeneity smokeintensity with heterogeneity.at = {smokeintensity: [mean over the "
                  "1629]}: the model is linear in every term but qsmk x smokeintensity, so the standardised "
                  "effect over a population is the effect at that population's mean smoking intensity"),
]

# ---------------------------------------------------------------------------------------------------- chapter 15
PS1629 = ("ipw with the book's propensity model fitted to all 1629 individuals (outcome death, which no one "
          "misses; the propensity model does not involve the outcome, and the book's Program 15.2 fits it to the "
          "1629): extras['ipw_weights']['propensity']")
PSDEC = ("design.estimator ps_regression with score strata, strata 10, score_rows with_missing_outcome (the "
         "score fitted to the 1629, the deciles cut on their scores, the regression on the 1566), inference.vcov iid")
PSLIN = ("design.estimator ps_regression with score linear, score_rows with_missing_outcome, inference.vcov iid")
CH15 = [
    number("beta1", "15.1", "2.6", "Using the same model as in Section 13.2, here we obtained the parameter "
           "estimates beta_1 = 2.6 and beta_2 = 0.05.", "coefficient of qsmk in the pooled model",
           status="reproduced", recipe="ols + heterogeneity smokeintensity: conditional effect at 0"),
    number("beta2", "15.1", "0.05", "... beta_2 = 0.05.", "coefficient of qsmk x smokeintensity",
           status="reproduced", recipe="extras['heterogeneity']['interactions']"),
    number("effect_si5", "15.1", "2.8", "... the effect estimate ... was 2.8 (95% confidence interval: 1.5, 4.1) "
           "for those smoking 5 cigarettes/day, and 4.4 (95% confidence interval: 2.8, 6.1) for 40 cigarettes/day.",
           "effect at smokeintensity 5 (multcomp::glht contrast)", status="reproduced",
           recipe="ols + heterogeneity smokeintensity with at [5, 40], inference.vcov iid (glm's model-based "
                  "variance)"),
    number("effect_si5_ci_low", "15.1", "1.5", "(95% confidence interval: 1.5, 4.1)", "its CI, lower",
           status="reproduced", recipe="conditional effect CI, vcov iid"),
    number("effect_si5_ci_high", "15.1", "4.1", "(95% confidence interval: 1.5, 4.1)", "its CI, upper",
           status="reproduced", recipe="conditional effect CI, vcov iid"),
    number("effect_si40", "15.1", "4.4", "... and 4.4 (95% confidence interval: 2.8, 6.1) for 40 cigarettes/day.",
           "effect at smokeintensity 40", status="reproduced", recipe="conditional effect at 40, vcov iid"),
    number("effect_si40_ci_low", "15.1", "2.8", "(95% confidence interval: 2.8, 6.1)", "its CI, lower",
           status="reproduced", recipe="conditional effect CI, vcov iid"),
    number("effect_si40_ci_high", "15.1", "6.1", "(95% confidence interval: 2.8, 6.1)", "its CI, upper",
           status="reproduced", recipe="conditional effect CI, vcov iid"),
    number("no_product", "15.1", "3.5", "In our example, a model without any product terms yielded the estimate "
           "3.5 (95% confidence interval: 2.6, 4.3) kg.", "outcome regression without product terms",
           status="reproduced", recipe="ols with design.outcome_model = the book's terms, vcov iid"),
    number("no_product_ci_low", "15.1", "2.6", "(95% confidence interval: 2.6, 4.3)", "its CI, lower",
           status="reproduced", recipe="ols, vcov iid"),
    number("no_product_ci_high", "15.1", "4.3", "(95% confidence interval: 2.6, 4.3)", "its CI, upper",
           status="reproduced", recipe="ols, vcov iid"),
    number("ps_min", "15.2", "0.053", "Under this model, individual 22941 was estimated to have the lowest estimated "
           "propensity score (0.053), and individual 24949 the highest (0.793).", "lowest propensity score",
           status="reproduced", recipe=PS1629),
    number("ps_min_seqn", "15.2", "22941", "individual 22941 was estimated to have the lowest ...",
           "seqn of the lowest score", status="reproduced", recipe=PS1629 + " and ['rows']"),
    number("ps_max", "15.2", "0.793", "... and individual 24949 the highest (0.793).", "highest propensity score",
           status="reproduced", recipe=PS1629),
    number("ps_max_seqn", "15.2", "24949", "... and individual 24949 the highest ...", "seqn of the highest score",
           status="reproduced", recipe=PS1629 + " and ['rows']"),
    number("ps_mean_quitters", "15.2", "0.312", "As expected, those who quit smoking had, on average, a greater "
           "estimated probability of quitting (0.312) than those who did not quit (0.245).",
           "mean propensity score among quitters", status="reproduced", recipe=PS1629),
    number("ps_mean_nonquitters", "15.2", "0.245", "... than those who did not quit (0.245).",
           "mean propensity score among non-quitters", status="reproduced", recipe=PS1629),
    number("ps_22005", "15.3", "0.6563", "For example, only individual 22005 had an estimated pi(L) of 0.6563",
           "propensity score of individual 22005 (and no one else's at that precision)", status="reproduced",
           recipe=PS1629),
    number("ps_treated_above_controls", "15.4", "2", "Only 2 treated individuals (0.01% of the study population) "
           "had values greater than those of any untreated individual.",
           "treated individuals whose score exceeds every untreated individual's", status="reproduced",
           recipe=PS1629),
    number("decile_effect_min", "15.3", "0.0", "The effect of smoking cessation on weight gain ranged across "
           "deciles from 0.0 to 6.6 kg", "smallest within-decile effect (deciles of the 1629 scores)",
           status="reproduced", recipe=PSDEC + ": min of extras['ps_regression']['stratum_effects'][*]['estimate'] "
           "(-0.015, decile 1)"),
    number("decile_effect_max", "15.3", "6.6", "... from 0.0 to 6.6 kg", "largest within-decile effect",
           status="differs",
           why="causalspec gives 6.544 (decile 3: 9.157 - 2.612), as the book's R code prints it (t.test in decile 3) "
               "and Fiedler's notebook (6.5); the book's 6.6 does not reproduce from its own code"),
    number("decile_regression", "15.3", "3.5", "In our example, a model without product terms yields an effect "
           "estimate of 3.5 kg (95% confidence interval: 2.6, 4.4).",
           "lm(wt82_71 ~ qsmk + as.factor(ps.dec))", status="reproduced", recipe=PSDEC),
    number("decile_regression_ci_low", "15.3", "2.6", "(95% confidence interval: 2.6, 4.4)", "its CI, lower",
           status="reproduced", recipe=PSDEC),
    number("decile_regression_ci_high", "15.3", "4.4", "(95% confidence interval: 2.6, 4.4)", "its CI, upper",
           status="reproduced", recipe=PSDEC),
    number("ps_regression", "15.3", "3.6", "When we used this latter approach in our example the effect estimate "
           "was 3.6 (95% confidence interval: 2.7, 4.5) kg.", "lm(wt82_71 ~ qsmk + ps), the score a covariate",
           status="reproduced", recipe=PSLIN),
    number("ps_regression_ci_low", "15.3", "2.7", "(95% confidence interval: 2.7, 4.5)", "its CI, lower",
           status="reproduced", recipe=PSLIN),
    number("ps_regression_ci_high", "15.3", "4.5", "(95% confidence interval: 2.7, 4.5)", "its CI, upper",
           status="differs",
           why="lm's t interval (the score a known covariate) is 2.654 to 4.448, which prints 2.7, 4.4; the book's "
               "4.5 is a bootstrap interval's (its R code's 100-draw bootstrap prints 2.59, 4.49), not reproducible "
               "draw for draw"),
    number("ps_standardized", "15.3", "3.6", "In our example, the standardized effect estimate was 3.6 (95% "
           "confidence interval: 2.7, 4.6) kg.", "standardisation with glm(wt82_71 ~ qsmk + ps + I(qsmk * ps)), "
           "bootstrap CI", status="not_expressible",
           why="ps_regression has no treatment-by-score product term, so standardising over qsmk x ps (averaged "
               "over the 1629) is not offered; the interval is a bootstrap's"),
    number("ps_standardized_ci_low", "15.3", "2.7", "(95% confidence interval: 2.7, 4.6)", "its CI, lower",
           status="not_expressible", why="as ps_standardized"),
    number("ps_standardized_ci_high", "15.3", "4.6", "(95% confidence interval: 2.7, 4.6)", "its CI, upper",
           status="not_expressible", why="as ps_standardized"),
]
CH15_CODE = [  # docs/15-prop-scores-r.md
    number("r_no_product_qsmk", "Program 15.1", "3.4626218", "summary(fit2): qsmk 3.4626218 0.4384543",
           "model without product terms: qsmk", status="reproduced", recipe="ols, vcov iid"),
    number("r_no_product_se", "Program 15.1", "0.4384543", "summary(fit2): qsmk 3.4626218 0.4384543",
           "its SE", status="reproduced", recipe="ols, vcov iid"),
    number("r_glht_si5", "Program 15.1", "2.7929", "summary(glht(fit, K1)): at 5: 2.7929 0.6683",
           "effect at smokeintensity 5", status="reproduced", recipe="conditional effect at 5, vcov iid"),
    number("r_glht_si5_se", "Program 15.1", "0.6683", "summary(glht(fit, K1)): at 5: 2.7929 0.6683", "its SE",
           status="reproduced", recipe="conditional effect SE, vcov iid"),
    number("r_glht_si40", "Program 15.1", "4.4261", "summary(glht(fit, K1)): at 40: 4.4261 0.8478",
           "effect at smokeintensity 40", status="reproduced", recipe="conditional effect at 40, vcov iid"),
    number("r_glht_si40_se", "Program 15.1", "0.8478", "summary(glht(fit, K1)): at 40: 4.4261 0.8478", "its SE",
           status="reproduced", recipe="conditional effect SE, vcov iid"),
    number("r_ps0_min", "Program 15.2", "0.05298", "summary(nhefs$ps[nhefs$qsmk==0]): Min. 0.05298",
           "score among non-quitters: minimum", status="reproduced", recipe=PS1629),
    number("r_ps0_mean", "Program 15.2", "0.24504", "summary(nhefs$ps[nhefs$qsmk==0]): Mean 0.24504",
           "score among non-quitters: mean", status="reproduced", recipe=PS1629),
    number("r_ps0_max", "Program 15.2", "0.65788", "summary(nhefs$ps[nhefs$qsmk==0]): Max. 0.65788",
           "score among non-quitters: maximum", status="reproduced", recipe=PS1629),
    number("r_ps1_min", "Program 15.2", "0.06248", "summary(nhefs$ps[nhefs$qsmk==1]): Min. 0.06248",
           "score among quitters: minimum", status="reproduced", recipe=PS1629),
    number("r_ps1_mean", "Program 15.2", "0.31240", "summary(nhefs$ps[nhefs$qsmk==1]): Mean 0.31240",
           "score among quitters: mean", status="reproduced", recipe=PS1629),
    number("r_ps1_max", "Program 15.2", "0.79320", "summary(nhefs$ps[nhefs$qsmk==1]): Max. 0.79320",
           "score among quitters: maximum", status="reproduced", recipe=PS1629),
    number("r_dec1_mean0", "Program 15.3", "3.995205", "t.test in decile 1: mean in group 0 3.995205",
           "decile 1, non-quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[0]"),
    number("r_dec1_mean1", "Program 15.3", "3.980551", "t.test in decile 1: mean in group 1 3.980551",
           "decile 1, quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[0]"),
    number("r_dec1_df", "Program 15.3", "11.571", "t.test in decile 1: df = 11.571", "decile 1, Welch df",
           status="reproduced", recipe=PSDEC + ": stratum_effects[0]"),
    number("r_dec3_mean0", "Program 15.3", "2.612094", "t.test in decile 3: mean in group 0 2.612094",
           "decile 3, non-quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[2]"),
    number("r_dec3_mean1", "Program 15.3", "9.156570", "t.test in decile 3: mean in group 1 9.156570",
           "decile 3, quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[2]"),
    number("r_dec10_mean0", "Program 15.3", "-0.5043766", "t.test in decile 10: mean in group 0 -0.5043766",
           "decile 10, non-quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[9]"),
    number("r_dec10_mean1", "Program 15.3", "1.7358528", "t.test in decile 10: mean in group 1 1.7358528",
           "decile 10, quitters' mean", status="reproduced", recipe=PSDEC + ": stratum_effects[9]"),
    number("r_dec10_df", "Program 15.3", "142.72", "t.test in decile 10: df = 142.72", "decile 10, Welch df",
           status="reproduced", recipe=PSDEC + ": stratum_effects[9]"),
    number("r_psdec_qsmk", "Program 15.3", "3.5005", "summary(fit.psdec): qsmk 3.5005 0.4571", "decile regression: "
           "qsmk", status="reproduced", recipe=PSDEC),
    number("r_psdec_se", "Program 15.3", "0.4571", "summary(fit.psdec): qsmk 3.5005 0.4571", "its SE",
           status="reproduced", recipe=PSDEC),
    number("r_psdec_ci_low", "Program 15.3", "2.603953", "confint.lm(fit.psdec): qsmk 2.603953 4.39700504",
           "its t interval, lower", status="reproduced", recipe=PSDEC),
    number("r_psdec_ci_high", "Program 15.3", "4.39700504", "confint.lm(fit.psdec): qsmk 2.603953 4.39700504",
           "its t interval, upper", status="reproduced", recipe=PSDEC),
    number("r_model6_qsmk", "Program 15.4", "3.5506", "summary(model6): qsmk 3.5506 0.4573", "lm(wt82_71 ~ qsmk + "
           "ps): qsmk", status="reproduced", recipe=PSLIN),
    number("r_model6_se", "Program 15.4", "0.4573", "summary(model6): qsmk 3.5506 0.4573", "its SE",
           status="reproduced", recipe=PSLIN),
    number("r_model6_ps", "Program 15.4", "-14.8218", "summary(model6): ps -14.8218 1.7576", "its ps coefficient",
           status="reproduced", recipe=PSLIN + ": extras['ps_regression']['coefficients']['ps']"),
]

CASES = {
    "ch12_ip_weighting": {
        "chapter": 12, "title": "IP weighting and marginal structural models",
        "sections": ["12.1 The causal question", "12.2 Estimating IP weights via modeling",
                     "12.3 Stabilized IP weights", "12.4 Marginal structural models",
                     "12.5 Effect modification and marginal structural models", "12.6 Censoring and missing data"],
        "pages": {"12.1": 149, "12.3": 154, "12.4": 156},
        "r_path": "12-ipw-msm-r.Rmd (output: docs/12-ipw-msm-r.md)", "py_path": "chapter12.ipynb",
        "model": {"propensity": f"glm({PS_FORMULA}, family = binomial())",
                  "msm": "geeglm(wt82_71 ~ qsmk, weights = w | sw, id = seqn, corstr = 'independence')",
                  "weights": "w = 1/f(A|L); sw = f(A)/f(A|L), f(A) from glm(qsmk ~ 1)",
                  "msm_logistic": "geeglm(death ~ qsmk, family = binomial(), weights = sw, id = seqn)",
                  "sample": "wt82 not missing: 1566 of the 1629 (the book's nhefs.nmv)"},
        "expected": CH12, "code_output": CH12_CODE,
    },
    "ch13_standardization": {
        "chapter": 13, "title": "Standardization and the parametric g-formula",
        "sections": ["13.2 Estimating the mean outcome via modeling",
                     "13.3 Standardizing the mean outcome to the confounder distribution",
                     "13.5 How seriously do we take our estimates?"],
        "pages": {},
        "r_path": "13-stand-gformula-r.Rmd (output: docs/13-stand-gformula-r.md)", "py_path": "chapter13.ipynb",
        "model": {"outcome": f"glm({OUTCOME_FORMULA} + I(qsmk * smokeintensity)) on the 1566 with wt82 measured "
                             "(a single pooled model: qsmk and one product term, qsmk x smokeintensity)",
                  "standardisation": "predictions with qsmk set to 0 and to 1 averaged over all 1629 individuals "
                                     "(the 63 censored included: the target is E[Y^{a,c=0}])",
                  "ci": "nonparametric bootstrap of the 1629, 1000 samples, estimate +- 1.96 SD"},
        "expected": CH13, "code_output": CH13_CODE,
    },
    "ch15_outcome_regression_propensity": {
        "chapter": 15, "title": "Outcome regression and propensity scores",
        "sections": ["15.1 Outcome regression", "15.2 Propensity scores",
                     "15.3 Propensity stratification and standardization", "15.4 Propensity matching"],
        "pages": {"15.3": 186},
        "r_path": "15-prop-scores-r.Rmd (output: docs/15-prop-scores-r.md)", "py_path": "chapter15.ipynb",
        "model": {"outcome": f"glm({OUTCOME_FORMULA} + I(qsmk * smokeintensity)); contrasts at smokeintensity 5 "
                             "and 40 by multcomp::glht; and the same model without the product term",
                  "propensity": f"glm({PS_FORMULA}, family = binomial()) fitted to all 1629 individuals",
                  "deciles": "cut at quantile(ps, 0:10/10) of the 1629 scores"},
        "expected": CH15, "code_output": CH15_CODE,
    },
}


def _text(value: float) -> str:
    """A value as the CSV stores it: integers as integers, doubles by Python's shortest round-trip repr."""
    if math.isnan(value):
        return "NA"
    return repr(float(value))


def export_data(book_dta: Path | None) -> tuple[str, int, dict]:
    import numpy as np  # the nhvenv's
    import pandas as pd
    import causaldata
    from causaldata import nhefs

    frame = nhefs.load_pandas().data
    out = pd.DataFrame({c: frame[c].astype(float) for c in COLUMNS})
    check = {}
    if book_dta is not None:
        book = pd.read_stata(book_dta, convert_categoricals=False)
        assert len(book) == len(out)
        for c in COLUMNS:
            a, b = out[c].to_numpy(), book[c].astype(float).to_numpy()
            assert ((a == b) | (np.isnan(a) & np.isnan(b))).all(), c
        check = {"book_dta_sha256": hashlib.sha256(book_dta.read_bytes()).hexdigest(),
                 "result": "every exported value equal (NaN where the book's file is missing)"}
    buf = io.StringIO()
    buf.write(",".join(COLUMNS) + "\n")
    for row in out.itertuples(index=False):
        cells = []
        for c, v in zip(COLUMNS, row):
            if c in INTEGER_COLUMNS:
                assert float(v).is_integer(), (c, v)
                cells.append(str(int(v)))
            else:
                cells.append(_text(v))
        buf.write(",".join(cells) + "\n")
    raw = buf.getvalue().encode()
    (PARITY / DATA_FILE).write_bytes(raw)
    version = getattr(causaldata, "__version__", None)
    if version is None:
        from importlib.metadata import version as _v
        version = _v("causaldata")
    return hashlib.sha256(raw).hexdigest(), len(out), {"causaldata": version, "pandas": pd.__version__, **check}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--book-dta", type=Path, default=None,
                    help="the book's nhefs.dta (data/nhefs.dta of remlapmot/cibookex-r) to check the export against")
    args = ap.parse_args()
    sha, rows, versions = export_data(args.book_dta)
    origin = {
        "package": "causaldata (PyPI), installed in a separate virtual environment, not a causalspec dependency",
        "version": versions["causaldata"],
        "dataset": "nhefs (causaldata.nhefs.load_pandas().data): the NHEFS subset of the book's web site, 1629 "
                   "cigarette smokers aged 25-74 with a baseline visit (1971-75) and a follow-up visit (1982)",
        "columns": COLUMNS,
        "note": ("values copied unchanged (integers for the codes and counts, doubles by their shortest "
                 "round-trip text, NA where missing: wt82 and wt82_71 for the 63 censored); sex 0 male 1 female, "
                 "race 0 white 1 other, education 1-5, exercise 0-2, active 0-2 (the book's codes); death = died "
                 "by 1992"),
        "check_against_book_file": versions.get("result") and {
            "file": "data/nhefs.dta", "repository": R_CODE["repository"], "commit": R_CODE["commit"],
            "sha256": versions["book_dta_sha256"], "result": versions["result"]},
    }
    for suffix, spec in CASES.items():
        case_id = f"hernan_robins_nhefs_{suffix}"
        case = {
            "id": case_id,
            "family": "hernan_robins",
            "description": (f"Hernán & Robins, Causal Inference: What If, chapter {spec['chapter']} "
                            f"({spec['title']}): the NHEFS numbers the book prints for the effect of quitting "
                            "smoking (qsmk) on weight gain 1971-1982 (wt82_71, kg), each at its printed precision, "
                            "with the sentence it is printed in, the book's code's model and how (or why not) "
                            "causalspec computes it; plus numbers the book's R code prints, at their precision"),
            "data": {"file": DATA_FILE, "rows": rows, "sha256": sha, "origin": origin},
            "source": {
                "book": BOOK,
                "chapter": spec["chapter"],
                "title": spec["title"],
                "sections": spec["sections"],
                "pages": spec["pages"],
                "pages_note": PAGES_NOTE,
                "code": [{**R_CODE, "path": spec["r_path"], "language": "R"},
                         {**PY_CODE, "path": spec["py_path"], "language": "Python"}],
                "confounders": CONFOUNDERS,
            },
            "model": spec["model"],
            "expected": spec["expected"],
            "code_output": {"source": {**R_CODE, "path": spec["r_path"]},
                            "note": "numbers printed by the book's R code when run (Palmer's rendering), at "
                                    "the precision printed; checked as the book's numbers are",
                            "numbers": spec["code_output"]},
            "tolerance": {
                "rel": 0.0,
                "abs": "per number: abs_tol = half a unit in the last printed digit of 'printed'",
                "note": ("a computed number matches a printed one when it is within half a unit of the last "
                         "printed digit, i.e. when it rounds to the printed text (counts: exactly)"),
            },
            "versions": {k: v for k, v in versions.items() if k in ("causaldata", "pandas")},
        }
        path = PARITY / "cases" / f"{case_id}.json"
        path.write_text(json.dumps(case, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {path.relative_to(ROOT)}: {len(spec['expected'])} book numbers, "
              f"{len(spec['code_output'])} code-output numbers")
    print(f"wrote {DATA_FILE}: {rows} rows, sha256 {sha}")


if __name__ == "__main__":
    main()
