"""The data card against an independent numpy computation of each statistic's definition, and its CLI."""

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark import card as card_module
from benchmark.card import CARD_KEYS, data_card
from benchmark.card_cli import main
from benchmark.data.arrays import PreferenceData


def independent_card(train: np.ndarray, rewards: np.ndarray, test: np.ndarray, test_rewards: np.ndarray) -> dict:
    """Each statistic straight from its definition, on whole float64 matrices."""
    k, d = train.shape[1:]
    rows = train.reshape(-1, d).astype(np.float64)
    covariance = np.cov(rows, rowvar=False)
    eig = np.linalg.eigvalsh(covariance)
    eig = np.where(eig > 0, eig, 0) / np.where(eig > 0, eig, 0).sum()
    entropy = -sum(p * np.log(p) for p in eig if p > 0)
    design = np.column_stack([rows, np.ones(len(rows))])
    beta = np.linalg.lstsq(design, rewards.reshape(-1), rcond=None)[0]
    test_rows = test.reshape(-1, d).astype(np.float64)
    predicted = np.column_stack([test_rows, np.ones(len(test_rows))]) @ beta
    y = test_rewards.reshape(-1)
    return {
        "effective_rank": np.exp(entropy),
        "prompt_share": np.trace(np.cov(train.astype(np.float64).mean(1), rowvar=False)) / np.trace(covariance),
        "linear_probe_r2": 1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum(),
        "reward_within_sd": np.mean([np.std(r) for r in rewards]),
        "reward_between_sd": np.std([np.mean(r) for r in rewards]),
        "tied_prompts": np.mean([len(set(r.tolist())) < k for r in rewards]),
    }


@pytest.mark.parametrize("chunk", [7, 8192])
def test_card_matches_the_definitions(monkeypatch: pytest.MonkeyPatch, chunk: int):
    rng = np.random.default_rng(0)
    n, k, d = 40, 5, 6
    latent = rng.normal(size=(n, 1, d)) + 0.5 * rng.normal(size=(n, k, d)) * np.linspace(0.1, 2, d)
    train = latent.astype(np.float16)
    rewards = (train.astype(np.float64) @ rng.normal(size=d) + 0.3 * rng.normal(size=(n, k))).round(1)
    rewards[:3, :2] = 1.5  # three prompts with a tie for sure
    test = rng.normal(size=(10, 8, d)).astype(np.float16)
    test_rewards = test.astype(np.float64) @ rng.normal(size=d)
    monkeypatch.setattr(card_module, "CHUNK_ROWS", chunk)  # streaming in small chunks must not change a value
    card = data_card(PreferenceData("t", train, rewards, test, test_rewards))
    expected = independent_card(train, rewards, test, test_rewards)
    assert list(card) == list(CARD_KEYS)
    assert card["shape"] == {"train": [n, k, d], "test": [10, 8, d]}
    for key, value in expected.items():
        assert card[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert card["tied_prompts"] >= 3 / n


def test_rank_deficient_embeddings_still_fit():
    """More dimensions than responses (a tiny set at D = 576): the minimum-norm fit, not a singular-matrix error."""
    rng = np.random.default_rng(1)
    train = rng.normal(size=(3, 2, 10))
    rewards = rng.normal(size=(3, 2))
    card = data_card(PreferenceData("t", train, rewards, rng.normal(size=(2, 2, 10)), rng.normal(size=(2, 2))))
    assert np.isfinite(card["linear_probe_r2"]) and card["effective_rank"] <= 5 + 1e-9


def test_cli_writes_the_card_of_a_dataset_option(tmp_path: Path, capsys: pytest.CaptureFixture):
    main(["dataset=toy2d", "--json", str(tmp_path / "card.json")])
    printed = capsys.readouterr().out
    card = json.loads((tmp_path / "card.json").read_text())
    assert set(card) == set(CARD_KEYS) and card["shape"]["train"] == [50, 10, 2]
    assert printed.startswith("dataset=toy2d\n") and "linear_probe_r2" in printed


def test_cli_bad_input_is_one_line(capsys: pytest.CaptureFixture, tmp_path: Path):
    with pytest.raises(SystemExit) as stop:
        main(["--root", str(tmp_path), "--generator", "g"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "arm-bench-card: error: --root needs --generator, --embedder and --task (the name parts of the files)")
    with pytest.raises(SystemExit) as stop:
        main(["--root", str(tmp_path), "--generator", "g", "--embedder", "e", "--task", "t"])
    assert stop.value.code == 2 and "embd_g_e_t_train.npy" in capsys.readouterr().err
