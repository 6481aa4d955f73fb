"""Command-line interface: `python build.py COMMAND`.

Exit codes: 0 success (warnings allowed), 1 invalid data or failed build, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from livingevidence.project import Project
from livingevidence.release.commands import COMMANDS as RELEASE_COMMANDS
from livingevidence.release.commands import add_commands as add_release_commands
from livingevidence.release.commands import run_command as run_release_command


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad usage already; keep its message short and without a traceback."""


def add_project(p: argparse.ArgumentParser) -> None:
    """The --project option every command has: the summary's folder (default: this repository)."""
    p.add_argument(
        "--project",
        type=Path,
        default=None,
        help="the summary's project folder: datapackage/, mkdocs.yml, docs/ (default: this repository)",
    )


def _add_package(p: argparse.ArgumentParser) -> None:
    add_project(p)
    p.add_argument(
        "--package",
        type=Path,
        default=None,
        help="data package directory or datapackage.json (default: the project's datapackage/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; every subcommand is documented in docs/contribute.md."""
    parser = _Parser(prog="build.py", description="Living evidence summary: validate the data and build the site.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check the data package and report every problem")
    _add_package(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="report format (default: text)")

    p = sub.add_parser("build", help="validate, generate pages and build the site")
    _add_package(p)
    p.add_argument("--out", type=Path, default=None, help="output directory (default: the project's site/)")
    p.add_argument("--engine", choices=["mkdocs", "zensical"], default="mkdocs", help="site engine (default: mkdocs)")

    p = sub.add_parser("serve", help="build, then serve with live reload on data changes")
    _add_package(p)
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")

    p = sub.add_parser("init", help="start a new living evidence summary in its own project folder")
    p.add_argument("directory", type=Path, metavar="DIR", help="the new project's folder (must not hold files)")
    p.add_argument("--title", required=True, help="the summary's topic, e.g. 'Magnesium after myocardial infarction'")
    p.add_argument("--maintainers", default="", help="who maintains it (default: '<title> maintainers')")

    p = sub.add_parser("import", help="add the rows of an extraction sheet (CSV) to the project's package")
    p.add_argument("sheet", type=Path, metavar="SHEET", help="CSV: one row per study x comparison x outcome")
    add_project(p)
    p.add_argument("--extracted-by", default="extraction sheet import", help="who extracted the data")

    p = sub.add_parser("synth", help="write a synthetic (fictional) data package of N studies")
    p.add_argument("n", type=int, metavar="N", help="number of studies")
    p.add_argument("--out", type=Path, required=True, help="directory to write the package into")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed writes the same bytes (default: 1)")

    p = sub.add_parser("bench", help="time validate, analyse, render and the site engine on synthetic packages")
    p.add_argument("--sizes", default="100,1000,5000", help="comma-separated study counts (default: 100,1000,5000)")
    p.add_argument("--json", type=Path, default=None, help="where to write the results (default: .build/bench.json)")
    p.add_argument("--engines", default="mkdocs,zensical", help="site engines to time, comma-separated (default: both)")
    p.add_argument("--lighthouse", action="store_true", help="also run Lighthouse on the largest size's site")

    add_release_commands(sub)  # diff, release-check, deploy, ci-report
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    project = Project.at(args.project) if getattr(args, "project", None) is not None else Project.at()
    package = getattr(args, "package", None) or project.package_dir
    if args.command == "validate":
        from livingevidence.checks import run_validate

        return run_validate(package, args.format)
    if args.command == "build":
        from livingevidence.site import run_build

        return run_build(package, args.out or project.site_dir, engine=args.engine, project=project)
    if args.command == "serve":
        from livingevidence.site import run_serve

        return run_serve(package, args.port, project=project)
    if args.command == "init":
        from livingevidence.tools.init_project import run_init

        return run_init(args.directory, args.title, args.maintainers)
    if args.command == "import":
        from livingevidence.tools.import_sheet import run_import

        return run_import(args.sheet, args.project, args.extracted_by)
    if args.command == "synth":
        from livingevidence.tools.synth import run_synth

        return run_synth(args.n, args.out, args.seed)
    if args.command == "bench":
        from livingevidence.tools.bench import run_bench

        return run_bench(args.sizes, args.json, args.engines, lighthouse=args.lighthouse)
    if args.command in RELEASE_COMMANDS:
        return run_release_command(args)
    parser.error(f"unknown command {args.command}")
    return 2
