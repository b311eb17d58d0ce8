"""Checks on embedding/reward files, each failing with one line that names the file and the fix.

Kept apart from the loader so every bad-input case is listed in one place. The checks never read a
whole file into memory: arrays stay memory-mapped and the finiteness scan reads fixed-size chunks.
"""

from pathlib import Path

import numpy as np

from benchmark.cache import remembered
from benchmark.data.entries import entry_problem
from benchmark.data.files import open_split
from benchmark.errors import UserError

EMBEDDING_DTYPES = ("float16", "float32")
REWARD_DTYPES = ("float16", "float32", "float64")
SCAN_BYTES = 4 << 20
#: Golden rewards beyond this size are taken for a unit or parsing error (reward models score within ~±100).
MAX_ABS_REWARD = 1e6
_EXPONENT_BITS = {2: 0x7C00, 4: 0x7F800000, 8: 0x7FF0000000000000}


def open_array(path: Path, dtypes: tuple[str, ...], missing_hint: str) -> np.ndarray:
    """Memory-map one .npy file, or raise naming what is wrong with it."""
    if not path.is_file():
        raise UserError(entry_problem(path, "file") or f"missing data file {path}; {missing_hint}")
    try:
        array = open_split(path)
    except (ValueError, OSError, EOFError) as err:
        raise UserError(
            f"{path} is not a readable .npy array ({err}); it may be truncated (re-download or rebuild it) "
            "or saved in another format (write it with numpy.save)"
        ) from err
    if not isinstance(array, np.ndarray):
        array.close()
        raise UserError(f"{path} holds several arrays (.npz); save the single array with numpy.save instead")
    if array.dtype.name not in dtypes:
        raise UserError(
            f"{path} has dtype {array.dtype}; expected one of {', '.join(dtypes)} "
            f"(convert with numpy.save(path, array.astype('float32')))"
        )
    return array


def check_split(embeddings: np.ndarray, rewards: np.ndarray, embd_path: Path, reward_path: Path) -> None:
    """Embeddings (N, K, D) and rewards (N, K, 1) that describe the same N prompts and K responses."""
    if embeddings.ndim != 3 or 0 in embeddings.shape:
        raise UserError(
            f"{embd_path} has shape {embeddings.shape}; expected (prompts N, responses K, dim D), all non-zero"
        )
    expected = (*embeddings.shape[:2], 1)
    if rewards.shape != expected:
        raise UserError(
            f"{reward_path} has shape {rewards.shape} but {embd_path.name} has {embeddings.shape}; "
            f"expected rewards of shape {expected} (one golden reward per response)"
        )
    if embeddings.shape[1] < 2:
        raise UserError(
            f"{embd_path} has K={embeddings.shape[1]} response per prompt; comparisons need K >= 2 responses"
        )


def check_finite(array: np.ndarray, path: Path, chunk_bytes: int = SCAN_BYTES) -> None:
    """Count NaN/inf values by reading the file through one small buffer, so memory stays flat at any size.

    A value is NaN or inf exactly when its exponent bits are all ones; testing the bits is several
    times faster than ``np.isfinite`` on float16.
    """
    offset = getattr(array, "offset", None)
    if offset is None:
        raise TypeError("check_finite needs the memory-mapped array returned by open_array")
    bits_type = np.dtype(array.dtype.str.replace("f", "u"))
    mask = bits_type.type(_EXPONENT_BITS[array.itemsize])
    raw = np.empty(max(array.itemsize, chunk_bytes - chunk_bytes % array.itemsize), dtype=np.uint8)
    masked = np.empty(raw.size // array.itemsize, dtype=bits_type)
    bad, first, seen = 0, None, 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        while seen < array.size:
            count = min(handle.readinto(raw) // array.itemsize, array.size - seen)
            if count == 0:
                break
            nonfinite = np.bitwise_and(raw[: count * array.itemsize].view(bits_type), mask, out=masked[:count]) == mask
            found = int(np.count_nonzero(nonfinite))
            if found and first is None:
                first = seen + int(np.argmax(nonfinite))
            bad, seen = bad + found, seen + count
    if bad:
        order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
        index = tuple(int(i) for i in np.unravel_index(first, array.shape, order=order))
        raise UserError(
            f"{path} has {bad} NaN/inf values (first at index {index}); rebuild or clean the file "
            "(e.g. drop the affected prompts)"
        )


def check_rewards(train: np.ndarray, test: np.ndarray, train_source: str, test_source: str, fix: str) -> None:
    """Golden rewards (N, K) a benchmark can learn from and score against: sane sizes, not all equal.

    Constant train rewards give labels that are pure noise (nothing to learn); a test split whose every
    prompt has equal rewards leaves rank correlation and Best-of-N undefined. ``fix`` says what to do.
    """
    for rewards, source in ((train, train_source), (test, test_source)):
        size = np.abs(rewards)
        if size.max() > MAX_ABS_REWARD:
            index = tuple(int(i) for i in np.unravel_index(int(np.argmax(size)), rewards.shape))
            raise UserError(
                f"{source} has a golden reward of {float(rewards[index]):.3g} at (prompt, response) {index}, beyond "
                f"±{MAX_ABS_REWARD:.0e}: likely a unit or parsing error; rescale or fix the rewards ({fix})"
            )
    if train.min() == train.max():
        raise UserError(
            f"{train_source} has the same golden reward ({float(train.flat[0]):.6g}) for every train response, "
            f"so there is nothing to learn; {fix}"
        )
    if (test.min(axis=1) == test.max(axis=1)).all():
        raise UserError(
            f"{test_source}: every test prompt's responses have equal golden rewards, so no metric can rank them; "
            f"{fix}"
        )


def check_same_dim(train: np.ndarray, test: np.ndarray, train_path: Path, test_path: Path) -> None:
    if train.shape[2] != test.shape[2]:
        raise UserError(
            f"{train_path.name} has dim {train.shape[2]} but {test_path} has dim {test.shape[2]}; "
            "train and test embeddings must come from the same embedding model"
        )


def open_checked(
    embd_path: Path, reward_path: Path, missing_hint: str, cache_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Both files of one split, memory-mapped, after every per-split check.

    With ``cache_dir`` a file that passed the finiteness scan is not scanned again until it changes.
    """
    embeddings = open_array(embd_path, EMBEDDING_DTYPES, missing_hint)
    rewards = open_array(reward_path, REWARD_DTYPES, missing_hint)
    check_split(embeddings, rewards, embd_path, reward_path)
    for array, path in ((embeddings, embd_path), (rewards, reward_path)):
        if cache_dir is None:
            check_finite(array, path)
        else:
            check_finite_once(array, path, cache_dir)
    return embeddings, rewards


def check_finite_once(array: np.ndarray, path: Path, cache_dir: Path) -> None:
    """:func:`check_finite`, skipped for a file that passed it and has not changed since."""

    def scan(scanned: Path) -> str:
        check_finite(array, scanned)
        return "finite"

    remembered(path, cache_dir, "finite", scan)
