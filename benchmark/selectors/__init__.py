"""Selection strategies. Each is one small class with ``select(context, n)`` and one YAML in conf/selector/."""

from benchmark.selectors.base import SelectionContext, Selector, top_n
from benchmark.selectors.dopt import DOptimalSelector
from benchmark.selectors.entropy import EntropySelector
from benchmark.selectors.random import RandomSelector

__all__ = ["DOptimalSelector", "EntropySelector", "RandomSelector", "SelectionContext", "Selector", "top_n"]
