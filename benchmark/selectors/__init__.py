"""Selection strategies. Each is one small class with ``select(context, n)`` and one YAML in conf/selector/."""

from benchmark.selectors.bald import BALDSelector
from benchmark.selectors.base import SelectionContext, Selector, top_n
from benchmark.selectors.batchbald import BatchBALDSelector
from benchmark.selectors.coreset import CoresetSelector
from benchmark.selectors.dopt import DOptimalSelector
from benchmark.selectors.entropy import EntropySelector
from benchmark.selectors.greedy_dopt import GreedyDOptimalSelector
from benchmark.selectors.maxdiff import MaxDiffSelector
from benchmark.selectors.random import RandomSelector

__all__ = [
    "BALDSelector",
    "BatchBALDSelector",
    "CoresetSelector",
    "DOptimalSelector",
    "EntropySelector",
    "GreedyDOptimalSelector",
    "MaxDiffSelector",
    "RandomSelector",
    "SelectionContext",
    "Selector",
    "top_n",
]
