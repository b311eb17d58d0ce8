"""``arm-bench-plot <sweep folder>...``: figures and the summary table from run folders only.

Writes into ``--out`` (default ``<first folder>/plots``): ``curves.png/.pdf`` (1 − Spearman and best-of-N
vs labels, one panel per setting, one line per selector), ``toy.png/.pdf`` when the runs are 2D toy runs,
``summary.md`` and ``summary.csv``, and ``runs.csv`` (``runs.parquet`` with pyarrow): the tidy rows, one per
run and round, that everything else is computed from (``benchmark.load_runs``).

``--x cost --cost in_prompt=1,cross_prompt=2`` also draws ``curves_cost.png/.pdf`` against the annotation cost of
each round's pairs (plots.cost), computed here from the runs' files, so it changes no run.

Bands: --band ci (Student-t interval), se (±1 standard error) or none; by default ci from 5 seeds, se from 2,
none for 1 (a 95 % t band at 2 seeds is ±12.7 standard errors and hides the lines). The title names the band.
"""

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_text
from plots.cost import COST, parse_costs, with_cost
from plots.curves import choose_bon, choose_metrics
from plots.figures import curves_figure
from plots.intervals import BANDS, LEVEL
from plots.loading import read_runs, save_runs, settings
from plots.render import save_figure
from plots.tables import summary_table, to_csv, to_markdown
from plots.toy import stem_for, toy_figure, toy_settings


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="arm-bench-plot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="sweep folders (or run folders) to read")
    parser.add_argument("--out", type=Path, help="output folder (default: <first folder>/plots)")
    parser.add_argument("--bon-n", type=int, help="N of the best-of-N row (default: the largest all runs have)")
    parser.add_argument("--paired", action="store_true", help="add rows of paired differences to random")
    parser.add_argument("--strict", action="store_true", help="refuse a damaged run instead of skipping it")
    parser.add_argument("--target", type=float,
                        help="Spearman to reach for 'labels to target' (default: random's final mean per setting)")
    parser.add_argument("--columns", type=int, default=4, help="panels per row of the curves figure")
    parser.add_argument("--level", type=float, default=LEVEL, help="confidence level of the t intervals")
    parser.add_argument("--band", choices=BANDS,
                        help="band around each curve (default: ci from 5 seeds, se from 2, none for 1)")
    parser.add_argument("--selectors", type=names, help="comma-separated selectors to show (default: all)")
    parser.add_argument("--x", choices=("labels", "cost"), default="labels",
                        help="x axis of the curves: labelled pairs, or annotation cost (plots.cost; needs --cost)")
    parser.add_argument("--cost", help="cost per pair type for --x cost, e.g. in_prompt=1,cross_prompt=2")
    parser.add_argument("--metrics", type=names, default=["spearman", "bon"],
                        help="comma-separated figure rows: spearman, bon or any metrics.jsonl key "
                             "(default: spearman,bon)")
    parser.add_argument("--seed", type=int, help="seed shown in the toy figure (default: the smallest)")
    args = parser.parse_args(argv)
    if args.columns < 1:
        parser.error(f"--columns {args.columns}: give at least 1 panel per row")
    if not 0 < args.level < 1:
        parser.error(f"--level {args.level}: give a confidence level between 0 and 1, e.g. 0.95")
    if (args.x == "cost") != (args.cost is not None):
        parser.error("--x cost and --cost go together, e.g. --x cost --cost in_prompt=1,cross_prompt=2")
    return args


@dataclass(frozen=True)
class Drawn:
    """What one ``arm-bench-plot`` call wrote, and the tidy frame and summary table it drew them from."""

    written: list[Path]
    frame: pd.DataFrame
    table: pd.DataFrame
    bon_key: str


def run(args: argparse.Namespace) -> Drawn:
    """Draw everything; returns the files written and the data behind them."""
    frame = read_runs(args.folders, args.selectors, strict=args.strict)
    bon_key = choose_bon(frame, args.bon_n)
    metrics = choose_metrics(args.metrics, bon_key, frame)
    out = args.out or args.folders[0] / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = save_runs(frame, out)
    if args.x == "cost":
        costs = parse_costs(args.cost)
        figure = curves_figure(with_cost(frame, costs), metrics, args.paired, args.columns, args.band, args.level,
                               COST, f"annotation cost ({args.cost})")
        written += save_figure(figure, out, "curves_cost")
    figure = curves_figure(frame, metrics, args.paired, args.columns, args.band, args.level)
    written += save_figure(figure, out, "curves")
    toys = toy_settings(frame)
    for index, setting in enumerate(toys):
        written += save_figure(toy_figure(frame[frame["setting"] == setting], args.seed), out,
                               stem_for(index, len(toys)))
    table = summary_table(frame, bon_key, args.target, args.level)
    for name, text in (("summary.md", to_markdown(table, bon_key, args.level)), ("summary.csv", to_csv(table))):
        atomic_write_text(out / name, text)
        written.append(out / name)
    print(f"{frame['run'].nunique()} runs, {len(settings(frame))} setting(s), {table['selector'].nunique()} "
          "selector(s)")
    return Drawn(written, frame, table, bon_key)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="arm-bench-plot: %(message)s")
    try:
        for path in run(parse_args(argv)).written:
            print(path)
    except UserError as err:
        print(f"arm-bench-plot: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
