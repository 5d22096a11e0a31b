"""causalspec: declarative, reviewable causal analysis whose numbers match R."""

__version__ = "0.1.0"
