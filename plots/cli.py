"""``arm-bench-plot <sweep folder>...``: figures and the summary table from run folders only.

Writes into ``--out`` (default ``<first folder>/plots``): ``curves.png/.pdf`` (1 − Spearman and best-of-N
vs labels, one panel per setting, one line per selector), ``toy.png/.pdf`` when the runs are 2D toy runs,
``summary.md`` and ``summary.csv``.
"""

import argparse
import logging
import sys
from pathlib import Path

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_text
from plots.curves import choose_bon
from plots.figures import curves_figure
from plots.intervals import LEVEL
from plots.loading import find_runs, group_runs
from plots.render import save_figure
from plots.tables import summary_rows, to_csv, to_markdown
from plots.toy import stem_for, toy_figure, toy_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="arm-bench-plot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="sweep folders (or run folders) to read")
    parser.add_argument("--out", type=Path, help="output folder (default: <first folder>/plots)")
    parser.add_argument("--bon-n", type=int, help="N of the best-of-N row (default: the largest all runs have)")
    parser.add_argument("--paired", action="store_true", help="add rows of paired differences to random")
    parser.add_argument("--target", type=float,
                        help="Spearman to reach for 'labels to target' (default: random's final mean per setting)")
    parser.add_argument("--columns", type=int, default=4, help="panels per row of the curves figure")
    parser.add_argument("--level", type=float, default=LEVEL, help="confidence level of the intervals")
    parser.add_argument("--seed", type=int, help="seed shown in the toy figure (default: the smallest)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> list[Path]:
    """Draw everything; returns the files written."""
    runs = find_runs(args.folders)
    settings = group_runs(runs)
    bon_key = choose_bon(runs, args.bon_n)
    out = args.out or args.folders[0] / "plots"
    written = save_figure(curves_figure(settings, bon_key, args.paired, args.columns, args.level), out, "curves")
    toys = toy_settings(settings)
    for index, setting in enumerate(toys):
        written += save_figure(toy_figure(setting, args.seed), out, stem_for(index, len(toys)))
    rows = summary_rows(settings, bon_key, args.target, args.level)
    for name, text in (("summary.md", to_markdown(rows, bon_key, args.level)), ("summary.csv", to_csv(rows))):
        atomic_write_text(out / name, text)
        written.append(out / name)
    print(f"{len(runs)} runs, {len(settings)} setting(s), {len({row.line for row in rows})} selector(s)")
    return written


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="arm-bench-plot: %(message)s")
    try:
        for path in run(parse_args(argv)):
            print(path)
    except UserError as err:
        print(f"arm-bench-plot: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
