"""The 2D toy figure (paper Fig. 1): fitted reward as a heat map, chosen pairs as segments, one panel per selector.

It reads ``toy_grid.npz`` (saved at the end of a 2D run by ``benchmark.toy_grid``) and the run's
``selections/``. BT rewards are identified only up to a shift, so every map is standardised (zero mean,
unit sd over the grid) and all panels share one colour scale.
"""

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.errors import UserError
from benchmark.outputs import RunFolder
from benchmark.toy_grid import FILE_NAME
from plots.loading import ALL_RUNS, Run, Setting
from plots.style import display_name

COLUMNS = 5


def is_toy(run: Run) -> bool:
    return (run.path / FILE_NAME).exists()


def standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def chosen_pairs(run: Run) -> np.ndarray:
    """Flat response ids of the pairs chosen after the random initial batch, (n, 2)."""
    folder = RunFolder(run.path)
    rounds = [np.load(folder.selection(r))["pairs"] for r in range(1, int(run.summary["rounds"]) + 1)]
    return np.concatenate(rounds) if rounds else np.empty((0, 2), dtype=np.int64)


def draw_map(axis: Any, grid: Any, values: np.ndarray, title: str, limits: tuple[float, float]) -> Any:
    extent = (grid["x"][0], grid["x"][-1], grid["y"][0], grid["y"][-1])
    image = axis.imshow(standardise(values), origin="lower", extent=extent, aspect="auto", cmap="viridis",
                        vmin=limits[0], vmax=limits[1])
    axis.scatter(*grid["points"].T, s=1.5, c="black", alpha=0.25, lw=0)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    return image


def draw_pairs(axis: Any, points: np.ndarray, pairs: np.ndarray) -> None:
    from matplotlib.collections import LineCollection

    segments = points[pairs]  # (n, 2 ends, 2 coords)
    axis.add_collection(LineCollection(segments, colors="white", linewidths=0.9, alpha=0.85))
    axis.scatter(*segments.reshape(-1, 2).T, s=5, c="white", edgecolors="black", linewidths=0.3, zorder=3)


def toy_seed(setting: Setting, requested: int | None) -> int:
    """``requested`` if some selector ran it, else the smallest seed every selector (or, failing that, any) ran."""
    available = sorted(set().union(*setting.lines.values()))
    if requested is not None:
        if requested not in available:
            raise UserError(f"--seed {requested}: no toy run with that seed; available: {available}")
        return requested
    shared = sorted(set.intersection(*(set(runs) for runs in setting.lines.values())))
    return (shared or available)[0]


def toy_figure(setting: Setting, seed: int | None = None) -> Any:
    """Golden reward, then one panel per selector at ``seed`` (default: the smallest seed every line has)."""
    from plots.render import pyplot

    seed = toy_seed(setting, seed)
    lines = [name for name in setting.ordered_lines() if seed in setting.lines[name]]
    runs = [setting.lines[name][seed] for name in lines]
    grids = [np.load(run.path / FILE_NAME) for run in runs]
    maps = [standardise(g["predicted"]) for g in grids]
    golden = grids[0]["golden"] if np.isfinite(grids[0]["golden"]).all() else None
    shown = maps + ([standardise(golden)] if golden is not None else [])
    limits = (float(min(np.percentile(m, 1) for m in shown)), float(max(np.percentile(m, 99) for m in shown)))
    panels = len(runs) + (golden is not None)
    columns = min(COLUMNS, panels)
    figure, axes = pyplot().subplots(math.ceil(panels / columns), columns, figsize=(2.6 * columns, 2.5 * math.ceil(
        panels / columns) + 0.5), squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    image = None
    if golden is not None:
        image = draw_map(flat.pop(0), grids[0], golden, "golden reward", limits)
    for axis, run, grid, name in zip(flat, runs, grids, lines, strict=False):
        spearman = run.metrics[-1]["spearman"]
        title = f"{display_name(run.selector)}{name.removeprefix(run.selector)}  (ρ = {spearman:.2f})"
        image = draw_map(axis, grid, grid["predicted"], title, limits)
        draw_pairs(axis, grid["points"], chosen_pairs(run))
    for axis in flat[len(runs):]:
        axis.set_visible(False)
    figure.suptitle(f"seed {seed}{setting_note(setting)}: fitted reward (standardised) and the pairs each selector "
                    "chose after the random initial batch; ρ = test Spearman", fontsize=9)
    figure.colorbar(image, ax=[a for a in axes.ravel() if a.get_visible()], shrink=0.8, label="standardised reward")
    return figure


def setting_note(setting: Setting) -> str:
    return "" if setting.label == ALL_RUNS else f", {setting.label}"


def toy_settings(settings: Sequence[Setting]) -> list[Setting]:
    """The settings whose runs all saved a toy grid."""
    return [s for s in settings if all(is_toy(run) for runs in s.lines.values() for run in runs.values())]


def stem_for(index: int, count: int) -> str:
    return "toy" if count == 1 else f"toy_{index + 1}"

