"""Reports: text summaries, coefficient tables and figures (no re-fitting here: a report only formats a Result).

Every plotting function takes ``ax=`` (a new figure when None) and returns the Axes it drew on.
"""

from causalspec.report._coefplot import coefplot, iplot
from causalspec.report._event_study import event_study_plot
from causalspec.report._figures import plot_dag
from causalspec.report._propensity_plots import love_plot, overlap_plot
from causalspec.report._tables import etable
from causalspec.report._text import coefficient_table, summary

__all__ = ["summary", "coefficient_table", "event_study_plot", "etable", "overlap_plot", "love_plot", "coefplot",
           "iplot", "plot_dag"]
