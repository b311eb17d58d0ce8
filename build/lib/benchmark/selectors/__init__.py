"""Selection strategies. Each is one small class with ``select(context, n)`` and one YAML in conf/selector/.

Names are imported on first use (module ``__getattr__``), so ``import benchmark.selectors.base`` or a run of
one selector never loads every selector's dependencies; ``from benchmark.selectors import X`` works as usual.
"""

import importlib
from typing import Any

#: Public name -> the submodule that defines it.
_SOURCES = {
    "BADGESelector": "badge",
    "BALDSelector": "bald",
    "BALPMSelector": "bal_pm",
    "BatchBALDSelector": "batchbald",
    "CoresetSelector": "coreset",
    "DOptimalSelector": "dopt",
    "DoubleTSSelector": "double_ts",
    "EPIGSelector": "epig",
    "EntropySelector": "entropy",
    "GreedyDOptimalSelector": "greedy_dopt",
    "KCenterSelector": "kcenter",
    "MaxDiffSelector": "maxdiff",
    "RandomSelector": "random",
    "SelectionContext": "base",
    "Selector": "base",
    "top_n": "ranking",
}

__all__ = sorted(_SOURCES)


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_SOURCES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
