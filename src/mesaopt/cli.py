"""``mesaopt`` command line: parse → registry → run. User errors print one line and exit 2 (3: training diverged)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mesaopt.errors import MesaoptError

USAGE = """mesaopt run PRESET [--force] [--root DIR] [--config FILE] [--print-config] [--FIELD VALUE ...]
                                                                   train and evaluate (or resume); prints the run dir last
mesaopt sweep PRESET --grid FIELD=V1,V2 [--grid ...] [--seeds-per-task K] [--address ADDR] [--workers N]
              [--retries N] [--backend auto|ray|in-process] [--root DIR] [--FIELD VALUE ...]
                                                                   every grid point as a run (Ray tasks); sweep dir last
mesaopt runs [--root DIR]                                          list stored runs
mesaopt report RUN [--root DIR]                                    rebuild a run's report.html and summary
mesaopt inspect RUN [--root DIR] [--FIELD VALUE ...]              add the evidence card (search? what for? aligned?)
mesaopt list                                                       presets, envs, models, optimizers, detectors
mesaopt run PRESET --help                                          every config field of a preset"""


class _OneLineParser(argparse.ArgumentParser):
    """argparse's own usage errors become one ``MesaoptError`` line instead of usage + exit."""

    def error(self, message):
        raise MesaoptError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="mesaopt", usage=USAGE, add_help=True, allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", parser_class=_OneLineParser)
    run = sub.add_parser("run", add_help=False, allow_abbrev=False)
    run.add_argument("preset")
    run.add_argument("--force", action="store_true")
    run.add_argument("--root", type=Path, default=Path("runs"))
    run.add_argument("--config", type=Path, default=None, dest="config_file")
    run.add_argument("--print-config", action="store_true")
    sweep = sub.add_parser("sweep", add_help=False, allow_abbrev=False)
    sweep.add_argument("preset")
    sweep.add_argument("--grid", action="append", default=[])
    sweep.add_argument("--seeds-per-task", type=int, default=0)
    sweep.add_argument("--address", default=None)
    sweep.add_argument("--workers", type=int, default=None)
    sweep.add_argument("--retries", type=int, default=3)
    sweep.add_argument("--backend", default="auto")
    sweep.add_argument("--root", type=Path, default=Path("runs"))
    runs = sub.add_parser("runs")
    runs.add_argument("--root", type=Path, default=Path("runs"))
    report = sub.add_parser("report")
    report.add_argument("run")
    report.add_argument("--root", type=Path, default=Path("runs"))
    inspect = sub.add_parser("inspect", add_help=False, allow_abbrev=False)
    inspect.add_argument("run")
    inspect.add_argument("--root", type=Path, default=Path("runs"))
    sub.add_parser("list")
    return parser


def _dispatch(argv: list[str]) -> int:
    from mesaopt import shell

    args, rest = _parser().parse_known_args(argv)
    if args.command is None:
        print(USAGE)
        return 2
    if args.command not in ("run", "inspect", "sweep") and rest:
        raise MesaoptError(f"unexpected arguments for '{args.command}': {' '.join(rest)}")
    if args.command == "run":
        return shell.run_preset(args.preset, rest, root=args.root, force=args.force, config_file=args.config_file,
                                print_config=args.print_config)
    if args.command == "sweep":
        return shell.sweep_preset(args, rest)
    if args.command == "runs":
        return shell.list_stored_runs(args.root)
    if args.command == "inspect":
        return shell.inspect_stored_run(args.run, rest, args.root)
    if args.command == "report":
        return shell.rebuild_report(args.run, args.root)
    return shell.list_registries()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mesaopt`` script."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = _dispatch(argv)
    except MesaoptError as err:
        print(f"error: {err}", file=sys.stderr)
        code = err.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was added to the run catalog; running it again (without --force) resumes after "
              "the last finished training chunk", file=sys.stderr)
        code = 130
    return code


if __name__ == "__main__":
    sys.exit(main())
