"""Reports: text summaries, coefficient tables and figures (no re-fitting here: a report only formats a Result)."""

from ._event_study import event_study_plot
from ._propensity_plots import love_plot, overlap_plot
from ._tables import etable
from ._text import coefficient_table, summary

__all__ = ["summary", "coefficient_table", "event_study_plot", "etable", "overlap_plot", "love_plot"]
