"""The ``causalspec`` command: validate | plan | run | verify | diff | parity | power | schema.  Thin: it only calls
the public API.  ``run`` prints the answer first (``report._text.answer_lines``), then the plan, then the rest of
the summary; ``--quiet`` keeps only the answer, ``--verbose`` adds every check's detail (``RUN_HELP``).

Exit codes: 0 success; 1 a causalspec error (invalid spec, data problem, not identified, an archive target
that exists, a path that does not), printed without a traceback (``--debug`` shows it); 2 a usage error; 3 an
internal error (a bug: please report); verify: 4 a re-derived result, table or report differs, 5 a file was
tampered with or the archive is malformed or unsafe, 6 the data changed.

The exit code never depends on stdout: if the reader of a pipe goes away (``causalspec verify A | head``),
the rest of the output is discarded (stdout is pointed at os.devnull, as Python's documentation on SIGPIPE
recommends) and the command still exits with its real status.  Text that comes from a spec or an archive is
printed with control characters escaped, so it cannot add lines, and GitHub annotations escape their data
and properties as GitHub's workflow-command rules require.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Sequence

from causalspec._version import __version__
from causalspec.errors import ArchiveError, ArchiveNotFoundError, CausalSpecError, Problem
from causalspec import api
from causalspec.archive import archive
from causalspec.archive import diff
from causalspec.archive import verify
from causalspec.archive._write import check_target
from causalspec.parity import run_parity
from causalspec.power._command import add_power_parser, power_command
from causalspec.report._text import answer_lines, headline
from causalspec.spec import json_schema

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_TAMPERED = 5  # verify: tampered, malformed or unsafe archive
_MAX_LINES = 200  # differences printed by verify (a forged results.json can differ in every field)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="causalspec",
        description="Declarative, reviewable causal analysis whose numbers match R.",
    )
    p.add_argument("--version", action="version", version=f"causalspec {__version__}")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check spec files (exit 1 with every problem listed)")
    v.add_argument("specs", nargs="+", metavar="SPEC")
    v.add_argument("--format", choices=("text", "github", "json"), default="text",
                   help="text for people; github for GitHub Actions annotations; json for tools")
    v.add_argument("--no-data", action="store_true", help="do not read the data to check its columns")
    v.add_argument("-q", "--quiet", action="store_true", help="text: print only the problems (no 'ok' lines)")

    pl = sub.add_parser("plan", help="print the plan: adjustment set, estimator, and why")
    pl.add_argument("spec", metavar="SPEC")
    pl.add_argument("--json", action="store_true", help="print the plan as JSON")

    r = sub.add_parser("run", help="plan and estimate; print the answer, then the plan and the summary",
                       description=RUN_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("spec", metavar="SPEC")
    loud = r.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="print only the answer (no plan, no summary, "
                                                                  "no progress on stderr)")
    loud.add_argument("-v", "--verbose", action="store_true",
                      help="also print the full summary and the detail of every check (see above)")
    r.add_argument("--data", metavar="PATH", help="data file to use instead of the spec's data")
    r.add_argument("--json", action="store_true", help="print the result as JSON (docs/json.md)")

    r.add_argument("--archive", metavar="DIR", help="also write a reproducible archive into DIR (docs/archive.md)")
    r.add_argument("--include-data", action="store_true", help="copy the data into the archive")
    r.add_argument("--force", action="store_true",
                   help="replace an existing archive at DIR (never a folder of other files; a link is replaced, "
                        "not followed)")
    r.add_argument("--all-adjustment-sets", action="store_true",
                   help="also estimate under every valid adjustment set (specification curve)")
    r.add_argument("--no-refute", action="store_true", help="skip the refutation tests")
    r.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="refutation threads (-1: one per core)")

    ve = sub.add_parser("verify", help="re-run an archive and compare (exit 0 identical, 4 differ, 5 tampered "
                                       "or malformed, 6 data changed)")
    ve.add_argument("archive", metavar="ARCHIVE")
    ve.add_argument("--data", metavar="PATH", help="data file to use instead of the archived one")
    ve.add_argument("-q", "--quiet", action="store_true", help="print only what differs (the exit code says the rest)")

    pa = sub.add_parser("parity", help="run the R reference cases shipped with the package on this machine "
                                       "(exit 0 when all pass)")
    pa.add_argument("--json", action="store_true", help="print the report as JSON")
    df = sub.add_parser("diff", help="Markdown diff of two specs or two archives (spec, plan, results)")
    df.add_argument("a", metavar="A")
    df.add_argument("b", metavar="B")
    df.add_argument("--run", action="store_true", help="fit both specs (without refutations) and compare results")

    add_power_parser(sub)
    sub.add_parser("schema", help="print the JSON Schema of spec files")
    return p


RUN_HELP = """Plan the spec, fit it, run its robustness checks, and print:

  default    the answer (the effect with its confidence interval and the naive contrast, a one-line verdict
             on the sensitivity bounds, refutations and specification curve, and every warning), then the
             plan (adjustment set and why, estimator, variance, assumptions), then the rest of the summary
             (coefficient tables, sensitivity, DAG check, refutation and specification-curve tables)
  --quiet    the answer only
  --verbose  the answer, the plan, the whole summary as result.summary() prints it, then the detail the
             tables leave out: each refutation test's description and its pass rule, every specification-
             curve row with its kind and standard error and the curve's rule, and every independence the
             DAG check tested with its partial correlation and p-values
  --json     the result as JSON (docs/json.md), nothing else

While fitting, a one-line status and progress bars go to stderr when it is a terminal (not with --quiet)."""


class _PipeSafe(io.TextIOBase):
    """A stream that survives its reader going away: on BrokenPipeError the file descriptor is pointed at
    os.devnull (Python's docs, "Note on SIGPIPE") and later writes are dropped, so the command runs on and
    returns its real exit status instead of losing it to the exception."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def _broke(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # the interpreter's final flush then succeeds
            os.close(devnull)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass  # not a real file (a test's capture, a closed stream): dropping later writes is enough

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._broke()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._broke()

    def isatty(self) -> bool:
        try:
            return not self.broken and self._stream.isatty()
        except (ValueError, AttributeError):
            return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self._stream, "errors", "strict")


def main(argv: Sequence[str] | None = None) -> int:
    streams = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = (s if s is None else _PipeSafe(s) for s in streams)
    try:
        return _main(argv)
    finally:
        for wrapper in (sys.stdout, sys.stderr):
            if isinstance(wrapper, _PipeSafe):
                wrapper.flush()
        sys.stdout, sys.stderr = streams


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "run" and args.json and args.verbose:
        parser.error("argument --verbose: not allowed with argument --json")
    try:
        return _COMMANDS[args.command](args)
    except CausalSpecError as exc:
        if args.debug:
            raise
        _print_error(exc)
        if args.command == "verify" and isinstance(exc, ArchiveError) and not isinstance(exc, ArchiveNotFoundError):
            return EXIT_TAMPERED
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in causalspec: say so, briefly
        if args.debug:
            raise
        print(_safe(f"causalspec: internal error: {type(exc).__name__}: {exc}") + "\n"
              "This is a bug in causalspec. Re-run with --debug for the traceback and please report it.",
              file=sys.stderr)
        return EXIT_INTERNAL


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\n]")


def _safe(text: str) -> str:
    """One line: control characters (newline, CR, ESC...) escaped, so untrusted text cannot add lines such as
    GitHub workflow commands to a CI log, or move the terminal's cursor."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


def _print_error(exc: CausalSpecError) -> None:
    for problem in exc.problems:
        print(_safe(f"error[{problem.code}]: {problem}"), file=sys.stderr)


def _gh_data(text: str) -> str:
    """Escape a workflow command's message (actions/toolkit escapeData)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    """Escape a workflow command's property value (actions/toolkit escapeProperty): also ':' and ','."""
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _cmd_validate(args) -> int:
    failed = 0
    records = []
    dag_notes: dict[str, list[str]] = {}
    for path in args.specs:
        problems: list[Problem] = []
        dag_lines: list[str] = []
        try:
            checked = api.check(path, read_data=not args.no_data)
            spec_data = not args.no_data and api.load(path).data is not None
            if spec_data and checked.design == "observational":
                checks = api.check_dag(path)
                dag_lines = checks.summary_lines() if hasattr(checks, "summary_lines") else []
        except CausalSpecError as exc:
            problems = [p if p.file else _with_file(p, path) for p in exc.problems]
        failed += bool(problems)
        records.append((path, problems))
        dag_notes[path] = dag_lines
    if args.format == "json":
        print(json.dumps([{"spec": path, "valid": not probs, "problems": [
            {"code": p.code, "loc": p.loc, "message": p.message, "fix": p.fix, "file": p.file, "line": p.line}
            for p in probs]} for path, probs in records], indent=2))
    else:
        for path, probs in records:
            if args.format == "github":
                for p in probs:
                    line = f",line={int(p.line)}" if p.line else ""
                    text = f"{p.loc + ': ' if p.loc else ''}{p.message} {p.fix}".strip()
                    print(f"::error file={_gh_property(p.file or path)}{line},"
                          f"title={_gh_property(f'causalspec {p.code}')}::{_gh_data(text)}")
            elif probs:
                print(_safe(f"{path}: INVALID ({len(probs)} problem{'s' if len(probs) != 1 else ''})"))
                for p in probs:
                    print(_safe(f"  error[{p.code}]: {p}"))
            elif not args.quiet:
                print(_safe(f"{path}: ok"))
            for line in dag_notes.get(path, ()):  # the DAG against the data: advice, not a failure
                if args.format == "github" and ("rejected by the data" in line or line.startswith("WARNING")):
                    print(f"::warning file={_gh_property(path)},title={_gh_property('causalspec dag check')}::"
                          f"{_gh_data(line)}")
                elif args.format == "text" and not args.quiet:
                    print(_safe(f"  {line.strip()}"))
        if args.format == "text" and len(records) > 1 and not args.quiet:
            print(f"{len(records) - failed} valid, {failed} invalid")
    return EXIT_ERROR if failed else EXIT_OK


def _with_file(p: Problem, path: str) -> Problem:
    return p.located(path, p.line)


def _cmd_plan(args) -> int:
    plan = api.plan(api.load(args.spec))
    sys.stdout.write(plan.to_json() if args.json else plan.explain())
    return EXIT_OK


def _cmd_run(args) -> int:
    if args.archive:  # refuse an existing target before spending the time to run
        check_target(args.archive, force=args.force)
    spec = api.load(args.spec)
    plan = api.plan(spec)
    watched = not args.json and not args.quiet and sys.stderr.isatty()
    if watched:  # the plan is printed after the answer; say what is being fitted while the user waits
        sys.stderr.write(_safe(f"fitting {plan.name}: {plan.estimator.value}, {plan.formula} ...") + "\n")
    data = Path(args.data) if args.data else None
    result = api.run(spec, data=data, plan_=plan, refute=not args.no_refute,
                     all_adjustment_sets=args.all_adjustment_sets, progress=watched, n_jobs=args.jobs)
    sys.stdout.write(result.to_json() if args.json else _run_text(result, plan, args))
    if args.archive:
        # the data analysed (--data when given), so the archive records the sample the summary printed
        written = archive(spec, args.archive, include_data=args.include_data, data=data, force=args.force)
        sys.stderr.write(_safe(f"archive written to {written}") + "\n")
    return EXIT_OK


def _run_text(result, plan, args) -> str:
    """The answer, then (unless --quiet) the plan and the summary, and with --verbose every check's detail."""
    answer = answer_lines(result)
    if args.quiet:
        return "\n".join(answer) + "\n"
    summary = result.summary()
    if not args.verbose:  # leave out the summary's own copy of the headline and warnings: the answer said them
        said = {" ".join(line.split()) for line in (*answer, headline(result))}
        summary = "\n\n".join(p for p in summary.rstrip("\n").split("\n\n") if " ".join(p.split()) not in said)
    detail = "\n\n" + "\n".join(_detail_lines(result)) if args.verbose else ""
    return "\n".join(answer) + "\n\n" + plan.explain().rstrip("\n") + "\n\n" + summary.rstrip("\n") + detail + "\n"


def _detail_lines(result) -> list[str]:
    """--verbose: what the summary's tables leave out (each check's rule, every curve row and DAG test)."""
    out = []
    ref = result.refutations
    if hasattr(ref, "tests"):
        out.append("Refutation tests in detail:")
        out += [textwrap.fill(f"{t.name.replace('_', ' ')} ({t.verdict}): {(t.description or t.reason).rstrip('.')}. "
                              f"Rule: {t.rule}.", 100, initial_indent="  ", subsequent_indent="    ") for t in ref.tests]
    curve = result.specification_curve
    if hasattr(curve, "rows"):
        out.append(textwrap.fill(f"Specification curve in detail (rule: {curve.rule}; largest gap "
                                 f"{curve.max_gap_in_se:.3g} SEs):", 100, subsequent_indent="    "))
        out += [f"  {{{', '.join(r.adjustment_set)}}} ({r.kind}): estimate {r.estimate:.6g}, std. error "
                f"{r.std_error:.4g}, CI {r.conf_low:.6g} to {r.conf_high:.6g}, n = {r.nobs:,}" for r in curve.rows]
    checks = result.dag_tests
    if getattr(checks, "tests", None):
        out.append(f"DAG check in detail (partial correlations; Holm-adjusted p, alpha = {checks.alpha:g}):")
        out += [f"  {t.text}: r = {t.estimate:.4f} (CI {t.conf_low:.4f} to {t.conf_high:.4f}), p = {t.p_value:.3g}, "
                f"adjusted p = {t.p_adjusted:.3g}, n = {t.nobs:,}" for t in checks.tests]
    return out or ["(no refutation, specification-curve or DAG-check detail: none of them ran)"]


def _cmd_verify(args) -> int:
    report = verify(args.archive, data=args.data)
    for name in report.tampered:
        print(_safe(f"TAMPERED: {name} {report.reasons.get(name, 'does not match manifest.json')}"))
    if report.data_source and not args.quiet:
        print(_safe(f"data: {report.data_source}"))
    if report.data_changed:
        print("DATA CHANGED: the data's sha256 differs from the archived fingerprint")
    for line in () if args.quiet else report.environment_changed:
        print(_safe(f"warning: environment differs: {line}"))
    for line in report.differences[:_MAX_LINES]:
        print(_safe(f"DIFFERS: {line}"))
    if len(report.differences) > _MAX_LINES:
        print(f"DIFFERS: ... and {len(report.differences) - _MAX_LINES} more differences")
    if report.exit_code == 0 and not args.quiet:
        print("identical: every result field, table and the report text match the archive "
              "(figures by name and hash)")
    return report.exit_code


def _cmd_diff(args) -> int:
    sys.stdout.write(diff(args.a, args.b, run=args.run))
    return EXIT_OK


def _cmd_schema(args) -> int:
    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _cmd_parity(args) -> int:
    report = run_parity(progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.table())
    return EXIT_OK if report.passed else EXIT_ERROR


def _cmd_power(args) -> int:
    sys.stdout.write(power_command(args))
    return EXIT_OK


_COMMANDS = {"validate": _cmd_validate, "plan": _cmd_plan, "run": _cmd_run, "verify": _cmd_verify, "diff": _cmd_diff,
             "schema": _cmd_schema, "parity": _cmd_parity, "power": _cmd_power}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
