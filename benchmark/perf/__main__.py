"""Benchmark scripts that print numbers (never timed tests): ``python -m benchmark.perf {selectors,scale,wandb}``."""

import argparse
import importlib

COMMANDS = {
    "selectors": "benchmark.perf.selectors",
    "scale": "benchmark.perf.scale",
    "wandb": "benchmark.perf.tracker",
}

parser = argparse.ArgumentParser(prog="python -m benchmark.perf", description=__doc__)
parser.add_argument("command", choices=sorted(COMMANDS))
parser.add_argument("args", nargs=argparse.REMAINDER, help="options of the command (see its --help)")
options = parser.parse_args()
importlib.import_module(COMMANDS[options.command]).main(options.args)
