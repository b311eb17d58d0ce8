"""Precomputed LLM embeddings in the authors' layout: the real-data path of the benchmark.

Files ``embd_{generator}_{embedder}_{task}_{split}.npy`` (N, K, D) and ``reward_…`` (N, K, 1), as
released with arXiv 2502.04357 or written by ``arm-bench-build``. Embeddings stay memory-mapped (a
40,000 × 10 × 2048 train file is 1.6 GB in float16); only the rewards are read into memory.
"""

from pathlib import Path

import numpy as np

from benchmark.data.arrays import PreferenceData
from benchmark.data.entries import entry_problem
from benchmark.data.files import SPLITS, split_paths
from benchmark.data.layout import c_ordered
from benchmark.data.validate import check_rewards, check_same_dim, open_checked
from benchmark.errors import UserError

LISTED_FILES = 6


def load_embeddings(
    name: str = "embeddings",
    root: str = "data",
    generator: str | None = None,
    embedder: str | None = None,
    task: str | None = None,
    cache_dir: str | None = None,
) -> PreferenceData:
    """Open and check the train and test files of one (generator, embedder, task) setup.

    ``cache_dir`` remembers files that passed the full NaN/inf scan (until they change), so the jobs of a
    sweep do not each read every value of a multi-GB file, and holds C-ordered copies of Fortran-ordered
    embedding files (benchmark/data/layout.py).
    """
    parts = {"generator": generator, "embedder": embedder, "task": task}
    for key, value in parts.items():
        if not value:
            raise UserError(
                f"dataset.{key} is not set; pass dataset.{key}=<name part of embd_{{generator}}_{{embedder}}_"
                "{task}_{split}.npy> or pick a preset (dataset=harmless model=gemma2b)"
            )
    folder = Path(root).expanduser()
    if not folder.is_dir() and (problem := entry_problem(folder, "folder")):
        raise UserError(f"dataset.root={root}: {problem}")
    folder = folder.resolve()
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    paths = {split: split_paths(folder, generator, embedder, task, split) for split in SPLITS}
    cache = Path(cache_dir).expanduser() if cache_dir else None
    for split, (embd_path, reward_path) in paths.items():
        embeddings, rewards = open_checked(embd_path, reward_path, _missing_hint(folder, split), cache)
        arrays[split] = (embeddings, np.array(rewards[..., 0]))
    check_same_dim(arrays["train"][0], arrays["test"][0], paths["train"][0], paths["test"][0])
    check_rewards(arrays["train"][1], arrays["test"][1], str(paths["train"][1]), str(paths["test"][1]),
                  "fix or rebuild the file")
    train, test = ((c_ordered(arrays[s][0], paths[s][0], cache), arrays[s][1]) for s in SPLITS)
    files = tuple(p for split in SPLITS for p in paths[split])
    return PreferenceData(name, *train, *test, files=files)


def _missing_hint(folder: Path, split: str) -> str:
    """Where the files come from, plus the names that are there, since release names are unconfirmed."""
    present = sorted(p.name for p in folder.glob(f"embd_*_{split}.npy"))[:LISTED_FILES] if folder.is_dir() else []
    found = f"; embedding files in that folder: {', '.join(present)}" if present else ""
    return (
        "download the authors' files into that folder or point dataset.root / ARM_BENCH_DATA at them, "
        f"or build them with arm-bench-build (README 'Real data'){found}"
    )
