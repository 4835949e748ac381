"""The ``adaptsim`` command line.

``adaptsim run CASE.yaml [--out DIR] [--set path.to.key=value ...]``,
``adaptsim validate CASE.yaml [...]``, ``adaptsim cases [DIR]``, ``adaptsim --version``.

Bad input (missing file, invalid YAML, unknown kind or key, wrong type, out-of-range or NaN
value) is reported in one line on stderr, naming the file and the field, with exit code 2 and
no output written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import adaptsim
from adaptsim.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_RUN_FAILED, CaseError, InputError, RunError
from adaptsim.launch import launched_rank, launched_ranks


def bundled_cases_dir() -> Path:
    """The repository's ``cases/`` folder (next to the package), else ``./cases``."""
    beside_package = Path(adaptsim.__file__).resolve().parents[1] / "cases"
    return beside_package if beside_package.is_dir() else Path("cases")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="adaptsim", description="Adaptive scientific simulation from YAML case files.")
    parser.add_argument("--version", action="version", version=f"adaptsim {adaptsim.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="validate a case, then run it")
    run.add_argument("case", help="YAML case file")
    run.add_argument("--out", help="output folder (default: results/<case name>)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set integrator.eta=0.01 (repeatable)",
    )

    validate = commands.add_parser("validate", help="check case files without running them")
    validate.add_argument("cases", nargs="+", help="YAML case files")
    validate.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a field before validating"
    )

    cases = commands.add_parser("cases", help="list the bundled cases")
    cases.add_argument("directory", nargs="?", help="folder of YAML cases (default: the bundled cases/)")

    cite = commands.add_parser("cite", help="print the references of the methods a case uses")
    cite.add_argument("case", help="YAML case file")
    cite.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a field first")
    return parser


def _command_run(args: argparse.Namespace) -> int:
    from adaptsim.cases import load_case, run_case
    from adaptsim.progress import log

    loaded = load_case(args.case, args.overrides)
    ranks = launched_ranks()
    if ranks > 1 and not loaded.spec.mpi:
        raise CaseError(
            f"kind {loaded.spec.name!r} runs on one process, but mpiexec started {ranks}: every rank would repeat the run "
            "and write the same files; run it without mpiexec",
            source=args.case,
        )
    out_dir = Path(args.out) if args.out else Path("results") / Path(args.case).stem
    if out_dir.exists() and not out_dir.is_dir():
        raise CaseError("exists and is not a folder", source="--out", field=())
    log(f"running [bold]{args.case}[/] (kind {loaded.spec.name}, seed {loaded.case.seed})")
    ctx = run_case(loaded, out_dir)
    for path in ctx.artifacts:
        log(f"wrote {path}")
    return 0


def _command_validate(args: argparse.Namespace) -> int:
    from adaptsim.cases import load_case

    for case in args.cases:
        loaded = load_case(case, args.overrides)
        print(f"{case}: ok (kind {loaded.spec.name})")
    return 0


def _command_cite(args: argparse.Namespace) -> int:
    from adaptsim.cases import load_case
    from adaptsim.citations import case_references

    loaded = load_case(args.case, args.overrides)
    references = case_references(loaded)
    print(f"{args.case} (kind {loaded.spec.name}) uses the methods of:")
    for number, text in enumerate(references, 1):
        print(f"[{number}] {text.replace('*', '')}")
    return 0


def _command_cases(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from adaptsim.cases import read_yaml

    directory = Path(args.directory) if args.directory else bundled_cases_dir()
    if not directory.is_dir():
        raise CaseError("is not a folder", source=str(directory))
    table = Table("case", "kind", "description", box=None, header_style="bold")
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = read_yaml(path)
        except CaseError as exc:
            table.add_row(path.name, "?", f"[red]{exc.message}[/]")
            continue
        table.add_row(path.name, str(data.get("kind", "?")), str(data.get("description", "")))
    Console().print(table)
    return 0


_COMMANDS = {"run": _command_run, "validate": _command_validate, "cases": _command_cases, "cite": _command_cite}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``adaptsim`` console script; returns the exit code."""
    args = _build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (CaseError, InputError) as exc:  # an InputError: bad data met by the numerics during a run
        if launched_rank() == 0:  # under mpiexec, one line for the whole job
            print(f"adaptsim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunError as exc:
        if launched_rank() == 0:  # a distributed runner raises it on every rank at once
            print(f"adaptsim: run failed: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except OSError as exc:  # a full disk, a folder made read-only during the run
        from adaptsim.output_folder import os_error_text

        print(f"adaptsim: run failed: {os_error_text(exc)}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except MemoryError:
        print("adaptsim: run failed: out of memory (make the case smaller, or run it on fewer/larger processes)", file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        print("adaptsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
