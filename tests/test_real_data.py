"""The embeddings loader: the authors' layout, presets, memory mapping, and one clear line per bad file."""

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.format import open_memmap

from benchmark.config import instantiate_checked
from benchmark.data import synthetic
from benchmark.data.files import split_paths
from benchmark.data.validate import check_finite
from benchmark.errors import UserError
from benchmark.perf.memory import status_mb
from benchmark.runner import run_experiment

SHAPES = {"train": (6, 3), "test": (3, 4)}
DIM = 8


def paths(root: Path, split: str) -> tuple[Path, Path]:
    return split_paths(root, "g", "e", "t", split)


def write_valid(root: Path, dtype: str = "float32") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, (n, k) in SHAPES.items():
        embd_path, reward_path = paths(root, split)
        arrays[split] = rng.standard_normal((n, k, DIM)).astype(dtype)
        np.save(embd_path, arrays[split])
        np.save(reward_path, rng.standard_normal((n, k, 1)).astype("float32"))
    return arrays


@pytest.fixture
def load(make_config) -> Callable[..., object]:
    """Build ``dataset=embeddings`` from a config, the way a run (and the bad-input table) does."""

    def _load(root: Path, *overrides: str) -> object:
        cfg = make_config("dataset=embeddings", f"dataset.root={root}", "model=custom", "model.generator=g",
                          "model.embedder=e", "dataset.task=t", *overrides, tiny=False)
        return instantiate_checked(cfg.dataset, "dataset")

    return _load


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_loads_the_authors_layout_memory_mapped(tmp_path, load, dtype):
    arrays = write_valid(tmp_path, dtype)
    data = load(tmp_path)
    assert isinstance(data.train_embeddings, np.memmap) and data.train_embeddings.dtype == dtype
    np.testing.assert_array_equal(data.test_embeddings, arrays["test"])
    assert data.train_rewards.shape == SHAPES["train"] and not isinstance(data.train_rewards, np.memmap)
    np.testing.assert_array_equal(data.train_rewards, np.load(paths(tmp_path, "train")[1])[..., 0])
    assert [p.name for p in data.files][:2] == ["embd_g_e_t_train.npy", "reward_g_e_t_train.npy"]


@pytest.mark.parametrize(
    ("dataset", "model", "generator", "embedder", "task", "dim"),
    [
        ("harmless", "gemma2b", "Gemma2b-sft", "Gemma2b", "Harmless", 2048),
        ("helpful", "gemma7b", "Gemma7b-sft", "Gemma7b", "Helpful", 3072),
        ("harmless", "llama3_8b", "Llama3-8b-sft", "Llama3-8b", "Harmless", 4096),
        ("helpful", "custom", "custom", "custom", "Helpful", None),
    ],
)
def test_presets_resolve_to_the_authors_naming(make_config, monkeypatch, dataset, model, generator, embedder, task,
                                               dim):
    monkeypatch.setenv("ARM_BENCH_DATA", "/data/arm")
    cfg = make_config(f"dataset={dataset}", f"model={model}", tiny=False)
    assert (cfg.dataset.root, cfg.dataset.generator, cfg.dataset.embedder) == ("/data/arm", generator, embedder)
    assert (cfg.dataset.task, cfg.model.dim) == (task, dim)
    overridden = make_config(f"dataset={dataset}", f"model={model}", "dataset.generator=X", "dataset.task=Y",
                             tiny=False)
    assert (overridden.dataset.generator, overridden.dataset.task) == ("X", "Y")


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc to reset peak RSS")
def test_a_40000_x_10_x_2048_file_is_not_read_into_memory(tmp_path, load):
    """1.6 GB of float16 (a sparse file, so it costs no disk): loading it must keep memory flat."""
    for split, shape in (("train", (40000, 10, 2048)), ("test", (4, 5, 2048))):
        embd_path, reward_path = paths(tmp_path, split)
        open_memmap(embd_path, mode="w+", dtype="float16", shape=shape).flush()
        np.save(reward_path, np.arange(shape[0] * shape[1], dtype="float32").reshape(*shape[:2], 1))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak-RSS counter
    before = status_mb("VmRSS")
    data = load(tmp_path)
    assert data.train_embeddings.shape == (40000, 10, 2048)
    assert status_mb("VmHWM") - before < 100  # rewards (1.6 MB) + one 4 MB scan buffer, not 1,600 MB


def _save(path: Path, array: np.ndarray) -> None:
    np.save(path, array)


def _nan_embeddings(root: Path) -> None:
    embd_path, _ = paths(root, "train")
    array = np.load(embd_path)
    array[1, 2, 3] = np.nan
    array[4, 0, 0] = np.inf
    _save(embd_path, array)


def _inf_reward(root: Path) -> None:
    _, reward_path = paths(root, "test")
    array = np.load(reward_path)
    array[2, 1, 0] = -np.inf
    _save(reward_path, array)


def _npz(path: Path) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, a=np.zeros(3))


def _truncate(root: Path) -> None:
    embd_path, _ = paths(root, "train")
    data = embd_path.read_bytes()
    embd_path.write_bytes(data[: len(data) // 2])


def _constant_test_prompts(root: Path) -> None:
    """Rewards differ between test prompts but not within any: nothing to rank."""
    _save(paths(root, "test")[1], np.repeat(np.arange(3, dtype="float32"), 4).reshape(3, 4, 1))


def _absurd_reward(root: Path) -> None:
    _, reward_path = paths(root, "train")
    array = np.load(reward_path)
    array[4, 2, 0] = -3e7
    _save(reward_path, array)


#: (case, how to break a valid folder, the error expected) — one line each, naming the file and the fix.
BAD_INPUTS: list[tuple[str, Callable[[Path], None], str]] = [
    ("missing file", lambda r: paths(r, "train")[0].unlink(),
     r"missing data file .*embd_g_e_t_train\.npy; download the authors' files .*arm-bench-build"),
    ("reward shape", lambda r: _save(paths(r, "train")[1], np.zeros((6, 3), "float32")),
     r"reward_g_e_t_train\.npy has shape \(6, 3\) but .* expected rewards of shape \(6, 3, 1\)"),
    ("embeddings not 3-D", lambda r: _save(paths(r, "train")[0], np.zeros((6, 3), "float32")),
     r"embd_g_e_t_train\.npy has shape \(6, 3\); expected \(prompts N, responses K, dim D\)"),
    ("integer dtype", lambda r: _save(paths(r, "train")[0], np.zeros((6, 3, DIM), "int32")),
     r"embd_g_e_t_train\.npy has dtype int32; expected one of float16, float32"),
    ("float64 embeddings", lambda r: _save(paths(r, "test")[0], np.zeros((3, 4, DIM))),
     r"embd_g_e_t_test\.npy has dtype float64; expected one of float16, float32 \(convert with"),
    ("truncated file", _truncate, r"embd_g_e_t_train\.npy is not a readable \.npy array .*truncated"),
    ("not an .npy file", lambda r: paths(r, "test")[1].write_text("rewards,1,2\n"),
     r"reward_g_e_t_test\.npy is not a readable \.npy array"),
    ("npz archive", lambda r: _npz(paths(r, "train")[0]),
     r"embd_g_e_t_train\.npy holds several arrays \(\.npz\); save the single array with numpy\.save"),
    ("NaN/inf embeddings", _nan_embeddings,
     r"embd_g_e_t_train\.npy has 2 NaN/inf values \(first at index \(1, 2, 3\)\)"),
    ("inf reward", _inf_reward, r"reward_g_e_t_test\.npy has 1 NaN/inf values \(first at index \(2, 1, 0\)\)"),
    ("K < 2", lambda r: (_save(paths(r, "train")[0], np.zeros((6, 1, DIM), "float32")),
                         _save(paths(r, "train")[1], np.zeros((6, 1, 1), "float32"))),
     r"embd_g_e_t_train\.npy has K=1 response per prompt; comparisons need K >= 2"),
    ("train/test dims differ", lambda r: _save(paths(r, "test")[0], np.zeros((3, 4, 5), "float32")),
     r"embd_g_e_t_train\.npy has dim 8 but .*embd_g_e_t_test\.npy has dim 5; train and test"),
    ("constant train rewards", lambda r: _save(paths(r, "train")[1], np.full((6, 3, 1), 0.5, "float32")),
     r"reward_g_e_t_train\.npy has the same golden reward \(0\.5\) for every train response, so there is nothing "
     r"to learn; fix or rebuild the file"),
    ("every test prompt constant", _constant_test_prompts,
     r"reward_g_e_t_test\.npy: every test prompt's responses have equal golden rewards, so no metric can rank them"),
    ("absurd reward", _absurd_reward,
     r"reward_g_e_t_train\.npy has a golden reward of -3e\+07 at \(prompt, response\) \(4, 2\), beyond ±1e\+06"),
]


@pytest.mark.parametrize(("case", "breaks", "message"), BAD_INPUTS, ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_fails_with_one_clear_line(tmp_path, load, case, breaks, message):
    write_valid(tmp_path)
    breaks(tmp_path)
    with pytest.raises(UserError, match=message) as err:
        load(tmp_path)
    assert "\n" not in str(err.value)


def test_missing_file_lists_the_names_that_are_there(tmp_path, load):
    write_valid(tmp_path)
    with pytest.raises(UserError, match=r"missing data file .*embd_g_e_X_train\.npy.*in that folder: embd_g_e_t_train"):
        load(tmp_path, "dataset.task=X")


def test_unset_name_part_names_the_key(tmp_path, load):
    with pytest.raises(UserError, match=r"dataset\.task is not set; pass dataset\.task="):
        load(tmp_path, "dataset.task=null")


def test_model_dim_mismatch_fails_before_any_run_file(tmp_path, make_config, run_dir):
    write_valid(tmp_path)
    cfg = make_config("dataset=embeddings", f"dataset.root={tmp_path}", "model=gemma2b", "model.generator=g",
                      "model.embedder=e", "dataset.task=t", "logger=none", "prompts_per_round=2", tiny=False)
    with pytest.raises(UserError, match=r"model\.dim=2048 but dataset 'embeddings' has embeddings of dim 8"):
        run_experiment(cfg, run_dir)
    assert not (run_dir / "metrics.jsonl").exists()


@pytest.mark.parametrize("dtype", ["<f2", ">f4", "<f8"])
def test_finiteness_scan_counts_across_chunks(tmp_path, dtype):
    array = np.zeros((5, 7, 3), dtype=dtype)
    array[0, 6, 2], array[3, 1, 0], array[4, 6, 2] = np.nan, np.inf, -np.inf
    path = tmp_path / "a.npy"
    np.save(path, array)
    with pytest.raises(UserError, match=r"has 3 NaN/inf values \(first at index \(0, 6, 2\)\)"):
        check_finite(np.load(path, mmap_mode="r"), path, chunk_bytes=16)
    np.save(path, np.full((5, 7, 3), 65504, dtype=dtype))  # the largest float16: finite
    check_finite(np.load(path, mmap_mode="r"), path, chunk_bytes=16)


def test_generated_data_gets_the_same_reward_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic.SyntheticWorld, "reward", lambda self, embeddings: np.zeros(embeddings.shape[:-1]))
    with pytest.raises(UserError, match=r"^the synthetic dataset \(seed=3\) has the same golden reward \(0\) for every "
                                        r"train response, so there is nothing to learn; change dataset\.seed"):
        synthetic.load_synthetic(dim=8, train_prompts=6, test_prompts=2, prompt_rank=2, response_rank=2, seed=3,
                                 cache_dir=str(tmp_path))
