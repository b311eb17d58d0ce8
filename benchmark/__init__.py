"""arm-bench: active reward modeling benchmark.

``benchmark.run([...])`` runs one experiment as the CLI would; ``benchmark.load_runs(folder)`` reads run folders
into one DataFrame. Both are imported on first use, so ``import benchmark`` stays light (no pandas, no Hydra).
"""

from typing import Any

from benchmark import usercode

usercode.install()  # from here on, user modules are hashed as imported: a run records the code it runs

__all__ = ["load_runs", "run"]


def __getattr__(name: str) -> Any:
    if name == "load_runs":
        from benchmark.results import load_runs

        return load_runs
    if name == "run":
        from benchmark.api import run

        return run
    raise AttributeError(f"module 'benchmark' has no attribute {name!r}")
