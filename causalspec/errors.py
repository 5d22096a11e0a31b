"""The causalspec exception hierarchy.

Every error raised on purpose by causalspec derives from :class:`CausalSpecError`
and from the matching built-in exception, so ``except ValueError`` keeps working
for callers that do not know causalspec.  Each class has a stable ``code``
(documented in ``docs/errors.md``; a test checks the two agree).

An error carries one or more :class:`Problem` records.  A problem says **what**
is wrong, **where** (a spec field path such as ``dag.edges[2]``, and for files
the file and line) and **how to fix it**.  Validation collects every problem and
raises once.

Examples
--------
>>> from causalspec.errors import SpecError, Problem
>>> err = SpecError([Problem("treatment", "'feature' is not a node of the DAG.",
...                          fix="Add 'feature' to dag.edges or fix the spelling.")])
>>> print(err)
treatment: 'feature' is not a node of the DAG. Add 'feature' to dag.edges or fix the spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar, Iterable

__all__ = [
    "Problem",
    "CausalSpecError",
    "SpecError",
    "SpecFileError",
    "GraphError",
    "IdentificationError",
    "AdjustmentError",
    "DataError",
    "EstimationError",
    "UnsupportedError",
    "ArchiveError",
    "ArchiveExistsError",
    "ArchiveNotFoundError",
    "ERROR_CODES",
]


@dataclass(frozen=True)
class Problem:
    """One located, actionable problem.

    Parameters
    ----------
    loc : str
        Where: a spec field path (``"dag.edges[2]"``), a column name, or ``""``.
    message : str
        What is wrong, in one sentence.
    fix : str
        How to fix it, in one sentence ("" when the message already says it).
    code : str
        A stable machine-readable code (see ``docs/errors.md``).
    file, line : optional
        The spec file and 1-based line, when the problem comes from a file.
    """

    loc: str
    message: str
    fix: str = ""
    code: str = ""
    file: str | None = None
    line: int | None = None

    def located(self, file: str | None, line: int | None) -> "Problem":
        return replace(self, file=file, line=line)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
        if self.loc:
            where = f"{where} {self.loc}" if where else self.loc
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text = f"{text} {self.fix}"
        return text


class CausalSpecError(Exception):
    """Base class of every error causalspec raises on purpose."""

    code: ClassVar[str] = "causalspec_error"

    def __init__(self, problems: "str | Problem | Iterable[Problem]", *, fix: str = "", loc: str = ""):
        if isinstance(problems, str):
            problems = [Problem(loc, problems, fix=fix, code=self.code)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(
            p if p.code else replace(p, code=self.code) for p in problems
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:  # one problem per line
        return "\n".join(str(p) for p in self.problems)


class SpecError(CausalSpecError, ValueError):
    """The spec is invalid: a field is missing, misspelt, of the wrong type or inconsistent.

    Example: ``treatment: 'feature' is not a node of the DAG.`` Fix the field named.
    """

    code = "spec_invalid"


class SpecFileError(SpecError):
    """A spec file cannot be read: missing, empty, not UTF-8, not YAML/TOML/JSON, or hostile.

    Example: ``specs/a.yaml:3: YAML tag '!!python/object' is not allowed.`` Remove the tag.
    """

    code = "spec_unreadable"


class GraphError(CausalSpecError, ValueError):
    """The DAG is malformed: a cycle, a self edge, a duplicate edge or an unparseable edge.

    Example: ``dag.edges: the graph has a cycle a -> b -> a.`` Remove one edge of the cycle.
    """

    code = "dag_invalid"


class IdentificationError(CausalSpecError, ValueError):
    """The effect is not identified by adjustment from the DAG, and the design offers nothing else.

    Example: ``the backdoor path x <-> y cannot be blocked.`` Use an instrument or a front-door set.
    """

    code = "not_identified"


class AdjustmentError(CausalSpecError, ValueError):
    """An explicit adjustment set is invalid for the DAG (open backdoor path, mediator, collider...).

    Example: ``adjustment[1]: 'sessions' is a mediator.`` Remove it or estimate the direct effect.
    """

    code = "adjustment_invalid"


class DataError(CausalSpecError, ValueError):
    """The data do not fit the spec: a missing column, a non-numeric outcome, no rows left.

    Example: ``data: column 'spend' is missing.`` Rename the column or fix the spec.
    """

    code = "data_invalid"


class EstimationError(CausalSpecError, RuntimeError):
    """The model cannot be estimated on these data (e.g. the treatment has no variation).

    Example: ``treatment 'x' is constant in the estimation sample.``
    """

    code = "estimation_failed"


class UnsupportedError(CausalSpecError, NotImplementedError):
    """The spec asks for a combination causalspec does not implement (e.g. ATT with OLS).

    Example: ``estimand: ATT is not available for estimator 'ols'.`` Pick a supported estimand.
    """

    code = "unsupported"


class ArchiveError(CausalSpecError, ValueError):
    """An analysis archive is unreadable, tampered with or unsafe (e.g. a zip path escaping its folder)."""

    code = "archive_invalid"


class ArchiveExistsError(ArchiveError):
    """The archive target already exists and would be overwritten (a folder of files, a file, a link).

    Example: ``out/: the folder exists, is not empty and is not a causalspec archive.`` Choose a new path,
    or pass ``--force`` to replace an earlier archive.
    """

    code = "archive_exists"


class ArchiveNotFoundError(ArchiveError):
    """There is nothing at the archive path given to ``verify`` or ``diff``.

    Example: ``out/: no such file or folder.`` Give the folder or .zip that ``run --archive`` wrote.
    """

    code = "archive_not_found"


ERROR_CODES: dict[str, type[CausalSpecError]] = {
    cls.code: cls
    for cls in (
        CausalSpecError,
        SpecError,
        SpecFileError,
        GraphError,
        IdentificationError,
        AdjustmentError,
        DataError,
        EstimationError,
        UnsupportedError,
        ArchiveError,
        ArchiveExistsError,
        ArchiveNotFoundError,
    )
}
