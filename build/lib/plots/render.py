"""Matplotlib set-up and saving, in one place: the Agg backend (no display needed), PNG and PDF side by side."""

from pathlib import Path
from types import ModuleType
from typing import Any

FORMATS = ("png", "pdf")


def pyplot() -> ModuleType:
    """matplotlib.pyplot on the Agg backend, imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, out_dir: Path, stem: str) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf`` into ``out_dir`` and close the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.{suffix}" for suffix in FORMATS]
    for path in paths:
        figure.savefig(path, dpi=150, bbox_inches="tight")
    pyplot().close(figure)
    return paths
