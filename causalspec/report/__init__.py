"""Reports: text summaries, coefficient tables and figures (no re-fitting here: a report only formats a Result)."""

from causalspec.report._event_study import event_study_plot
from causalspec.report._propensity_plots import love_plot, overlap_plot
from causalspec.report._tables import etable
from causalspec.report._text import coefficient_table, summary

__all__ = ["summary", "coefficient_table", "event_study_plot", "etable", "overlap_plot", "love_plot"]
