"""Reports: text summaries and coefficient tables (no re-fitting here: a report only formats a Result)."""

from ._text import coefficient_table, summary

__all__ = ["summary", "coefficient_table"]
