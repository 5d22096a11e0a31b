"""etable: several results side by side with the right numbers in every format."""

from __future__ import annotations

import pytest

import causalspec as cs
from causalspec.errors import UnsupportedError


@pytest.fixture(scope="module")
def results():
    a = cs.run("specs/feature_adoption.yaml", refute=False)
    b = cs.run("specs/wagepan_fe.yaml", refute=False)
    return a, b


def test_text_table_has_estimates_ses_stars_and_fixed_effect_rows(results):
    a, b = results
    text = cs.etable([a, b], names=["OLS", "FE"])
    e = a.effect
    assert f"{e.estimate:.4g}***" in text and f"({e.std_error:.4g})" in text
    assert f"{b.effect.estimate:.4g}" in text
    assert "nr fixed effects" in text and "Yes" in text and "No" in text
    assert "5,000" in text and "4,360" in text


def test_other_formats(results):
    a, b = results
    md = cs.etable([a, b], format="markdown", se="brackets", stars=False)
    assert md.startswith("| ") and f"[{a.effect.std_error:.4g}]" in md and "***" not in md
    tex = cs.etable([a, b], format="latex")
    assert "\\begin{tabular}{lcc}" in tex and "feature\\_usage" in tex
    html = cs.etable([a, b], format="html")
    assert html.startswith("<table>") and html.count("<tr") >= 10


def test_bad_arguments_are_errors(results):
    with pytest.raises(UnsupportedError, match="names"):
        cs.etable(list(results), names=["only one"])
    with pytest.raises(UnsupportedError, match="unknown table format"):
        cs.etable(list(results), format="pdf")


def _cells(rows):
    """The text layout: first column left-justified, the others right-justified, two spaces apart."""
    widths = [max(len(r[i]) for r in rows if r) for i in range(len(rows[0]))]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return "\n".join(rule if not r else "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                                                 for i, c in enumerate(r)).rstrip() for r in rows)


def test_two_models_print_exactly_the_results_own_numbers(results):
    a, b = results
    # keep / drop / order match the renamed terms, as in fixest
    text = cs.etable({"OLS": a, "FE": b}, keep=["^Feature", "union", "married"], order=["married"],
                     dict={"feature_usage": "Feature used"}, fitstat=("n", "r2", "wr2"))
    fa, un, ma = ({e.term: e for e in r.coefficients}[t] for r, t in ((a, "feature_usage"), (b, "union"),
                                                                       (b, "married")))
    fit_a, fit_b = dict(a.fit_stats), dict(b.fit_stats)
    star = lambda p: "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""  # noqa: E731
    rows = [["", "OLS", "FE"], [], ["Dependent Var.:", "spend", "lwage"], [],
            ["married", "", f"{ma.estimate:.4g}{star(ma.p_value)}"], ["", "", f"({ma.std_error:.4g})"],
            ["Feature used", f"{fa.estimate:.4g}{star(fa.p_value)}", ""], ["", f"({fa.std_error:.4g})", ""],
            ["union", "", f"{un.estimate:.4g}{star(un.p_value)}"], ["", "", f"({un.std_error:.4g})"], [],
            ["nr fixed effects", "No", "Yes"], ["year fixed effects", "No", "Yes"], [],
            ["Estimator", "ols", "feols"], ["S.E. type", "HC2", "Clustered (nr)"],
            ["Observations", "5,000", "4,360"], ["R²", f"{fit_a['r2']:.5g}", f"{fit_b['r2']:.5g}"],
            ["Within R²", "", f"{fit_b['wr2']:.5g}"], []]
    legend = "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
    assert text == _cells(rows) + "\n" + legend + "\n"


def test_two_models_in_markdown_exactly(results):
    a, b = results
    md = cs.etable([a, b], headers=["A", "B"], format="markdown", keep="^feature_usage$|^union$", fitstat=["n"],
                   signif_code=None, digits="r2")
    fa, un = a.effect, {e.term: e for e in b.coefficients}["union"]
    assert md == ("|  | A | B |\n|---|---|---|\n| Dependent Var.: | spend | lwage |\n"
                  f"| feature_usage | {fa.estimate:.2f} |  |\n|  | ({fa.std_error:.2f}) |  |\n"
                  f"| union |  | {un.estimate:.2f} |\n|  |  | ({un.std_error:.2f}) |\n"
                  "| nr fixed effects | No | Yes |\n| year fixed effects | No | Yes |\n| Estimator | ols | feols |\n"
                  "| S.E. type | HC2 | Clustered (nr) |\n| Observations | 5,000 | 4,360 |\n")


def test_custom_significance_codes_and_their_legend(results):
    a, _ = results
    text = cs.etable([a], keep="feature_usage", signif_code={"+": 1.0, "++": 1e-300})
    assert f"{a.effect.estimate:.4g}+\n" in text  # p = 1e-271: below 1 but not below 1e-300
    assert text.endswith("Signif. codes: 0 '++' 1e-300 '+' 1 ' ' 1\n")
    assert "Signif" not in cs.etable([a], signif_code=None) and "*" not in cs.etable([a], stars=False)


def test_iv_fit_statistics_are_printed_by_name():
    iv = cs.run("specs/mroz_iv.yaml", refute=False)
    text = cs.etable(iv, fitstat="n + ivf + wh + sargan")
    stats = iv.extras["fitstat"]
    import re

    assert re.search(rf"\nF-test \(1st stage\), educ +{stats['ivf1::educ']['stat']:.5g}\n", text)
    assert re.search(rf"\nWu-Hausman +{stats['wh']['stat']:.5g}\nSargan +{stats['sargan']['stat']:.5g}\n", text)
    assert "R²" not in text


def test_bad_options_say_what_is_valid(results):
    with pytest.raises(UnsupportedError, match=r"fitstat: unknown fit statistic\(s\) \['r3'\]. Choose among n, r2"):
        cs.etable(list(results), fitstat=["n", "r3"])
    with pytest.raises(UnsupportedError, match="digits: digits is 'x'"):
        cs.etable(list(results), digits="x")
    with pytest.raises(UnsupportedError, match=r"drop\[1\]: '\[' is not a regular expression"):
        cs.etable(list(results), drop=["a", "["])
    with pytest.raises(UnsupportedError, match="signif_code"):
        cs.etable(list(results), signif_code={"*": 5})
    with pytest.raises(UnsupportedError, match="headers were given twice"):
        cs.etable({"a": results[0]}, headers=["b"])


def test_select_terms_keeps_then_drops_then_orders():
    from causalspec.report._tables import select_terms

    terms = ["(Intercept)", "x1", "x2", "z", "w"]
    assert select_terms(terms, keep=["^x", "z"], drop="2", order=["z"]) == ["z", "x1"]
    assert select_terms(terms, drop=["!^x"]) == ["x1", "x2"]  # ! negates: drop what does not start with x
    assert select_terms(terms, order=["w", "Intercept"]) == ["w", "(Intercept)", "x1", "x2", "z"]
    assert select_terms(terms, keep="Z", rename={"z": "Z (renamed)"}) == ["z"]  # matched after renaming
