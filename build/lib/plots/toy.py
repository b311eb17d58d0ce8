"""The 2D toy figure (paper Fig. 1): fitted reward as a heat map, chosen pairs as segments, one panel per selector.

It reads ``toy_grid.npz`` (saved at the end of a 2D run by ``benchmark.toy_grid``) and the run's
``selections/``. BT rewards are identified only up to a shift, so every map is standardised (zero mean,
unit sd over the grid) and all panels share one colour scale.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import UserError
from benchmark.outputs import RunFolder
from benchmark.results import ALL_RUNS
from benchmark.toy_grid import FILE_NAME
from plots.curves import ONE_MINUS_SPEARMAN, line_order
from plots.figures import legend_label
from plots.loading import final_rows, settings

COLUMNS = 5


def is_toy(run: str) -> bool:
    return (Path(run) / FILE_NAME).exists()


def standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() or 1.0)


def chosen_pairs(run: str, rounds: int) -> np.ndarray:
    """Flat response ids of the pairs chosen after the random initial batch, (n, 2)."""
    folder = RunFolder(Path(run))
    chosen = [np.load(folder.selection(r))["pairs"] for r in range(1, rounds + 1)]
    return np.concatenate(chosen) if chosen else np.empty((0, 2), dtype=np.int64)


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


def toy_seed(rows: pd.DataFrame, requested: int | None) -> int:
    """``requested`` if some selector ran it, else the smallest seed every line (or, failing that, any) ran."""
    seeds = rows.groupby("line")["seed"].agg(set)
    available = sorted(set().union(*seeds))
    if requested is not None:
        if requested not in available:
            raise UserError(f"--seed {requested}: no toy run with that seed; available: {available}")
        return requested
    shared = sorted(set.intersection(*seeds))
    return (shared or available)[0]


def toy_figure(rows: pd.DataFrame, seed: int | None = None) -> Any:
    """Golden reward, then one panel per line of one setting's ``rows`` at ``seed`` (default: the smallest seed
    every line has), best final Spearman first."""
    from plots.render import pyplot

    seed = toy_seed(rows, seed)
    last = final_rows(rows[rows["seed"] == seed])
    lines = [line for line in line_order(rows, ONE_MINUS_SPEARMAN) if line in set(last["line"])]
    runs = [last.index[last["line"] == line][0] for line in lines]
    grids = [np.load(Path(run) / FILE_NAME) for run in runs]
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
    for axis, run, grid, line in zip(flat, runs, grids, lines, strict=False):
        title = f"{legend_label(rows, line)}  (ρ = {last.loc[run, 'spearman']:.2f})"
        image = draw_map(axis, grid, grid["predicted"], title, limits)
        draw_pairs(axis, grid["points"], chosen_pairs(run, int(last.loc[run, "round"])))
    for axis in flat[len(runs):]:
        axis.set_visible(False)
    setting = str(rows["setting"].iloc[0])
    note = "" if setting == ALL_RUNS else f", {setting}"
    figure.suptitle(f"seed {seed}{note}: fitted reward (standardised) and the pairs each selector "
                    "chose after the random initial batch; ρ = test Spearman", fontsize=9)
    figure.colorbar(image, ax=[a for a in axes.ravel() if a.get_visible()], shrink=0.8, label="standardised reward")
    return figure


def toy_settings(frame: pd.DataFrame) -> list[str]:
    """The settings whose runs all saved a toy grid."""
    toy_runs = {run for run in frame["run"].unique() if is_toy(run)}
    return [s for s in settings(frame) if set(frame.loc[frame["setting"] == s, "run"]) <= toy_runs]


def stem_for(index: int, count: int) -> str:
    return "toy" if count == 1 else f"toy_{index + 1}"
