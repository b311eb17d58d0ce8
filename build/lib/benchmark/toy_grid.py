"""The final reward model on a grid over a 2D dataset, saved so the toy figure needs only the run folder.

Plots read run folders and never rebuild a model, so a run on 2D embeddings writes what the heat map
needs: the grid, the fitted reward on it, the golden reward on it (when the dataset names a known reward
function) and the train points, so the selected pairs' response ids map to coordinates.
"""

import io
from pathlib import Path

import numpy as np
import torch

from benchmark.data import PreferenceData
from benchmark.data.toy2d import REWARDS
from benchmark.outputs import atomic_write_bytes
from benchmark.reward_model import RewardMLP, to_tensor

FILE_NAME = "toy_grid.npz"
GRID_POINTS = 120  # per axis: smooth enough for a heat map, one forward pass of 14k points


def grid_axes(data: PreferenceData, points: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced x and y covering every train and test point."""
    both = np.concatenate([data.train_embeddings.reshape(-1, 2), data.test_embeddings.reshape(-1, 2)])
    low, high = both.min(axis=0), both.max(axis=0)
    return np.linspace(low[0], high[0], points), np.linspace(low[1], high[1], points)


def save_toy_grid(
    run_dir: Path, model: RewardMLP | None, data: PreferenceData, device: torch.device, reward_name: str | None
) -> None:
    """Write ``toy_grid.npz`` into ``run_dir`` for 2D data; do nothing for any other dimension."""
    if data.dim != 2 or model is None:
        return
    xs, ys = grid_axes(data)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # (len(ys), len(xs), 2): row = y, column = x
    with torch.no_grad():
        predicted = model(to_tensor(grid.reshape(-1, 2), device)).cpu().numpy().reshape(grid.shape[:2])
    reward = REWARDS.get(str(reward_name))
    golden = reward(grid) if reward is not None else np.full(grid.shape[:2], np.nan)
    buffer = io.BytesIO()
    np.savez(
        buffer, x=xs, y=ys, predicted=predicted, golden=golden,
        points=np.asarray(data.train_embeddings, dtype=np.float32).reshape(-1, 2),
        point_rewards=np.asarray(data.train_rewards, dtype=np.float32).reshape(-1),
    )
    atomic_write_bytes(Path(run_dir) / FILE_NAME, buffer.getvalue())
