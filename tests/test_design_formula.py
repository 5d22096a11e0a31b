"""Formula safety: user-written terms are parsed, never evaluated, and refused outside the whitelist."""

from __future__ import annotations

import pytest

from causalspec.errors import SpecError
from causalspec.formula._parse import check_term, parse_formula, quote_name


@pytest.mark.parametrize("term", [
    "log(income)", "I(age**2)", "I(age^2)", "factor(region)", "C(region)", "age:female", "poly(x, 2)",
    "`a b`", "log(first.treat + 1)", "relevel(factor(race), ref = \"white\")", "factor(g, levels = c('b', 'a'))",
    "scale(x)", "sqrt(abs(x - 1))", "x*z", "(a + b)^2", "exp(-x)", "poly(x, degree = 3, raw = TRUE)",
])
def test_whitelisted_terms_are_accepted(term):
    check_term(term, "adjustment[0]")


@pytest.mark.parametrize("term,match", [
    ("__import__('os')", r"double underscore"),
    ("x.__class__", r"double underscore"),
    ("os.system('ls')", r"function os\.system\(\) .* is not allowed"),
    ("c('a', 'b')", r"function c\(\) .* not allowed|cannot be used|not an allowed function"),
    ("open('/etc/passwd')", r"function open\(\) .* is not allowed"),
    ("eval('1+1')", r"function eval\(\) .* is not allowed"),
    ("getattr(x, 'y')", r"function getattr\(\) .* is not allowed"),
    ("log(x)[0]", r"character '\[' .* not allowed"),
    ("I(x[0])", r"character '\[' .* not allowed"),
    ("I(lambda: 1)", r"not allowed|cannot parse"),
    ("I([i for i in x])", r"character '\[' .* not allowed"),
    ("log(x, 'a')", r"text 'a' .* only allowed as a factor level"),
    ("'abc'", r"character \"'\" is not allowed"),
    ("I(x if y else z)", r"cannot parse"),
    ("I(x == 1)", r"compare .* is not allowed"),
    ("I(x @ y)", r"character '@' .* not allowed"),
    ("log(x, base=2)", r"argument 'base' of log\(\)"),
    ("I(x; y)", r"character ';' .* not allowed"),
    ("x ~ y", r"'~' is not allowed"),
])
def test_hostile_terms_are_refused_with_location_and_fix(term, match):
    with pytest.raises(SpecError, match=match) as info:
        check_term(term, "adjustment[3]")
    text = str(info.value)
    assert text.startswith("adjustment[3]:")
    assert "Write a term from column names" in text


def test_formula_needs_exactly_one_tilde():
    with pytest.raises(SpecError, match="exactly one '~'"):
        parse_formula("y ~ x ~ z")


def test_backticked_names_are_literal_even_with_operators_and_backticks():
    f = parse_formula(f"y ~ {quote_name('a+b')} + {quote_name('x`y')} + {quote_name('__dunder__')}")
    assert f.variables == ("y", "a+b", "x`y", "__dunder__")


@pytest.mark.parametrize("name,quoted", [("educ", "educ"), ("a b", "`a b`"), ("a+b", "`a+b`"), ("x`y", "`x\\`y`"),
                                         ("first.treat", "first.treat"), ("2x", "`2x`"), ("if", "`if`")])
def test_quote_name_quotes_only_when_needed(name, quoted):
    assert quote_name(name) == quoted


def test_building_a_design_never_calls_eval_or_exec(monkeypatch):
    import builtins

    import numpy as np
    import pandas as pd

    from causalspec.formula._materialize import materialize

    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec must not be used to build a design")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"y": rng.normal(size=20), "x": rng.uniform(1, 2, size=20), "g": list("ab") * 10})
    des = materialize("y ~ log(x) + I(x^2) + poly(x, 2) + factor(g):x + scale(x)", d)
    assert des.terms[-2:] == ("factor(g)a:x", "factor(g)b:x")


def test_a_model_formula_honours_design_singletons_like_the_design_fields():
    """Issue 12: model.formula silently kept the singletons that the same spec without a formula drops."""
    import numpy as np
    import pandas as pd

    import causalspec as cs

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"unit": np.repeat(np.arange(100), 6), "t": np.tile(np.arange(6), 100)})
    d = pd.concat([d, pd.DataFrame({"unit": [1000, 1001], "t": [0, 1]})], ignore_index=True)  # two singletons
    d["x"] = rng.normal(size=len(d))
    d["y"] = d.x + rng.normal(size=len(d))
    base = dict(name="s", treatment="x", outcome="y", dag={"edges": ["unit -> x", "unit -> y", "x -> y"]},
                design={"type": "panel", "fixed_effects": ["unit"], "singletons": "drop"})
    fields = cs.fit(cs.plan(cs.Spec(**base)), d)
    formula = cs.fit(cs.plan(cs.Spec(**base, model={"formula": "y ~ x | unit"})), d)
    assert formula.nobs == fields.nobs == 600
    assert formula.dropped == fields.dropped == (("fixed-effect singletons (fixef.rm = 'singleton')", 2),)
    assert formula.effect.estimate == fields.effect.estimate
