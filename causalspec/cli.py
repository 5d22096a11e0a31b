"""The ``causalspec`` command: validate | plan | run | verify | diff | schema.  Thin: it only calls the public API.

Exit codes: 0 success; 1 a causalspec error (invalid spec, data problem, not identified), printed
without a traceback (``--debug`` shows it); 2 a usage error; 3 an internal error (a bug: please report);
verify: 4 results differ, 5 a file was tampered with, 6 the data changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import CausalSpecError, Problem

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


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

    pl = sub.add_parser("plan", help="print the plan: adjustment set, estimator, and why")
    pl.add_argument("spec", metavar="SPEC")
    pl.add_argument("--json", action="store_true", help="print the plan as JSON")

    r = sub.add_parser("run", help="plan and estimate; print naive and adjusted estimates")
    r.add_argument("spec", metavar="SPEC")
    r.add_argument("--data", metavar="PATH", help="data file to use instead of the spec's data")
    r.add_argument("--json", action="store_true", help="print the result as JSON (docs/json.md)")

    r.add_argument("--archive", metavar="DIR", help="also write a reproducible archive into DIR (docs/archive.md)")
    r.add_argument("--include-data", action="store_true", help="copy the data into the archive")
    r.add_argument("--all-adjustment-sets", action="store_true",
                   help="also estimate under every valid adjustment set (specification curve)")
    r.add_argument("--no-refute", action="store_true", help="skip the refutation tests")

    ve = sub.add_parser("verify", help="re-run an archive and compare (exit 0 identical, 4 differ, 5 tampered, "
                                       "6 data changed)")
    ve.add_argument("archive", metavar="ARCHIVE")
    ve.add_argument("--data", metavar="PATH", help="data file to use instead of the archived one")

    pa = sub.add_parser("parity", help="run the R reference cases shipped with the package on this machine "
                                       "(exit 0 when all pass)")
    pa.add_argument("--json", action="store_true", help="print the report as JSON")
    df = sub.add_parser("diff", help="Markdown diff of two specs or two archives (spec, plan, results)")
    df.add_argument("a", metavar="A")
    df.add_argument("b", metavar="B")

    sub.add_parser("schema", help="print the JSON Schema of spec files")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except CausalSpecError as exc:
        if args.debug:
            raise
        _print_error(exc)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in causalspec: say so, briefly
        if args.debug:
            raise
        print(f"causalspec: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in causalspec. Re-run with --debug for the traceback and please report it.",
              file=sys.stderr)
        return EXIT_INTERNAL


def _print_error(exc: CausalSpecError) -> None:
    for problem in exc.problems:
        print(f"error[{problem.code}]: {problem}", file=sys.stderr)


def _cmd_validate(args) -> int:
    from . import api

    failed = 0
    records = []
    for path in args.specs:
        problems: list[Problem] = []
        try:
            api.check(path, read_data=not args.no_data)
        except CausalSpecError as exc:
            problems = [p if p.file else _with_file(p, path) for p in exc.problems]
        failed += bool(problems)
        records.append((path, problems))
    if args.format == "json":
        print(json.dumps([{"spec": path, "valid": not probs, "problems": [
            {"code": p.code, "loc": p.loc, "message": p.message, "fix": p.fix, "file": p.file, "line": p.line}
            for p in probs]} for path, probs in records], indent=2))
    else:
        for path, probs in records:
            if args.format == "github":
                for p in probs:
                    line = f",line={p.line}" if p.line else ""
                    text = f"{p.loc}: {p.message} {p.fix}".strip().replace("%", "%25").replace("\n", "%0A")
                    print(f"::error file={p.file or path}{line},title=causalspec {p.code}::{text}")
            elif probs:
                print(f"{path}: INVALID ({len(probs)} problem{'s' if len(probs) != 1 else ''})")
                for p in probs:
                    print(f"  error[{p.code}]: {p}")
            else:
                print(f"{path}: ok")
        if args.format == "text" and len(records) > 1:
            print(f"{len(records) - failed} valid, {failed} invalid")
    return EXIT_ERROR if failed else EXIT_OK


def _with_file(p: Problem, path: str) -> Problem:
    return p.located(path, p.line)


def _cmd_plan(args) -> int:
    from . import api

    plan = api.plan(api.load(args.spec))
    sys.stdout.write(plan.to_json() if args.json else plan.explain())
    return EXIT_OK


def _cmd_run(args) -> int:
    from . import api

    spec = api.load(args.spec)
    plan = api.plan(spec)
    if not args.json:
        sys.stdout.write(plan.explain())
        sys.stdout.write("\n")
    data = Path(args.data) if args.data else None
    result = api.run(spec, data=data, plan_=plan, refute=not args.no_refute,
                     all_adjustment_sets=args.all_adjustment_sets, progress=not args.json and sys.stderr.isatty())
    sys.stdout.write(result.to_json() if args.json else result.summary())
    if args.archive:
        from .archive import archive

        archive(spec, args.archive, include_data=args.include_data)
        sys.stderr.write(f"archive written to {args.archive}\n")
    return EXIT_OK


def _cmd_verify(args) -> int:
    from .archive import verify

    report = verify(args.archive, data=args.data)
    for name in report.tampered:
        print(f"TAMPERED: {name} does not match manifest.json")
    if report.data_changed:
        print("DATA CHANGED: the data's sha256 differs from the archived fingerprint")
    for line in report.environment_changed:
        print(f"warning: environment differs: {line}")
    for line in report.differences:
        print(f"DIFFERS: {line}")
    if report.exit_code == 0:
        print("identical: every result field matches the archive")
    return report.exit_code


def _cmd_diff(args) -> int:
    from .archive import diff

    sys.stdout.write(diff(args.a, args.b))
    return EXIT_OK


def _cmd_schema(args) -> int:
    from .spec import json_schema

    print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _cmd_parity(args) -> int:
    from .parity import run_parity

    report = run_parity(progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.table())
    return EXIT_OK if report.passed else EXIT_ERROR


_COMMANDS = {"validate": _cmd_validate, "plan": _cmd_plan, "run": _cmd_run, "verify": _cmd_verify, "diff": _cmd_diff,
             "schema": _cmd_schema, "parity": _cmd_parity}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
