"""Data that spoils labels is flagged before round 0: an outlying golden reward is one warning (the run goes on
with the default scale), rewards tied within every prompt and embeddings equal for every response are refused."""

import numpy as np
import pytest

from benchmark.annotator import BradleyTerryAnnotator
from benchmark.data import PreferenceData
from benchmark.data.embeddings import load_embeddings
from benchmark.data.label_checks import refuse_unlearnable_labels, warn_outlier_rewards
from benchmark.errors import UserError
from benchmark.pairings import CrossPrompt, InPrompt
from tests.test_real_data import paths, write_valid


def data(train_rewards: np.ndarray, train_embeddings: np.ndarray | None = None) -> PreferenceData:
    rng = np.random.default_rng(1)
    p, k = train_rewards.shape
    embeddings = rng.standard_normal((p, k, 4)) if train_embeddings is None else train_embeddings
    return PreferenceData("d", embeddings, train_rewards, rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 5)))


def test_one_outlying_golden_reward_is_named_with_the_scale_it_implies(caplog):
    """The issue's case: one reward of 9e5 among rewards of std 3.7 sets the default scale to about 16,000."""
    rewards = np.random.default_rng(0).normal(0, 3.7, (300, 10))
    rewards[17, 4] = 9e5
    with caplog.at_level("WARNING"):
        warn_outlier_rewards(data(rewards), None)
    (line,) = [r.getMessage() for r in caplog.records]
    robust = 1.4826 * np.median(np.abs(rewards - np.median(rewards)))
    assert "golden reward 900000 at index (prompt 17, response 4)" in line
    assert f"the annotator scale (std of the golden train rewards) to {rewards.std():.5g}" in line
    assert f"instead of about {robust:.5g}" in line and "more than 20 x 1.4826 x MAD" in line
    assert 15_000 < rewards.std() < 17_000 and 3.5 < robust < 3.9
    # What the warning is about: labels follow the golden order far less often under the inflated scale.
    pairs = np.random.default_rng(2).integers(0, rewards.size, (20_000, 2))
    flat = rewards.reshape(-1)
    agree = {}
    for name, scale in (("default", rewards.std()), ("robust", robust)):
        annotator = BradleyTerryAnnotator(1.0, scale, 0)
        with np.errstate(over="ignore"):
            labels = annotator.label(pairs, flat[pairs[:, 0]], flat[pairs[:, 1]], np.zeros(len(pairs), np.int64))
        agree[name] = np.mean(labels == (flat[pairs[:, 0]] > flat[pairs[:, 1]]))
    assert agree["default"] < 0.55 < 0.7 < agree["robust"]


def test_rewards_within_the_rule_and_a_given_scale_say_nothing_about_the_scale(caplog):
    rewards = np.random.default_rng(0).normal(0, 1, (300, 10))
    rewards[0, 0] = 19 * 1.4826 * np.median(np.abs(rewards - np.median(rewards)))  # inside the rule
    with caplog.at_level("WARNING"):
        warn_outlier_rewards(data(rewards), None)
    assert caplog.text == ""
    rewards[0, 0] = 1e5
    with caplog.at_level("WARNING"):
        warn_outlier_rewards(data(rewards), 2.0)
    assert "annotator scale" not in caplog.text and "Best-of-N" in caplog.text


def test_rewards_tied_within_every_prompt_are_refused_for_in_prompt_pairs_only():
    rewards = np.repeat(np.arange(20.0)[:, None], 5, axis=1)
    with pytest.raises(UserError, match="tied within every prompt, so every in-prompt label is a coin flip; use "
                                        "setup=cross_prompt"):
        refuse_unlearnable_labels(data(rewards), InPrompt())
    refuse_unlearnable_labels(data(rewards), CrossPrompt())
    rewards[3, 1] += 1
    refuse_unlearnable_labels(data(rewards), InPrompt())


@pytest.mark.parametrize(("fill", "what"), [(0.0, "all zero"), (0.5, "the same vector for every response")])
def test_embeddings_equal_for_every_response_are_refused_naming_the_file(tmp_path, fill, what):
    write_valid(tmp_path)
    embd_train = paths(tmp_path, "train")[0]
    np.save(embd_train, np.full_like(np.load(embd_train), fill))
    with pytest.raises(UserError, match=rf"^{embd_train}: the embeddings are {what}"):
        loaded = load_embeddings(root=str(tmp_path), generator="g", embedder="e", task="t", cache_dir=str(tmp_path))
        refuse_unlearnable_labels(loaded, CrossPrompt())


def test_the_checks_run_before_round_0(make_config, run_dir, tmp_path, monkeypatch):
    from benchmark import loop
    from benchmark.runner import run_experiment

    trained = []
    monkeypatch.setattr(loop, "train_bradley_terry", lambda *a, **k: trained.append(1))
    write_valid(tmp_path)
    reward_train = paths(tmp_path, "train")[1]
    np.save(reward_train, np.broadcast_to(np.arange(6.0)[:, None, None], (6, 3, 1)).astype("float32"))
    cfg = make_config("dataset=embeddings", f"dataset.root={tmp_path}", "model=custom", "model.generator=g",
                      "model.embedder=e", "dataset.task=t", "prompts_per_round=6", "initial_labels=6",
                      "batch.size=3", "budget=3", "reward_model.width=8", "reward_model.steps=5", "logger=none",
                      tiny=False)
    with pytest.raises(UserError, match="tied within every prompt"):
        run_experiment(cfg, run_dir)
    assert trained == [] and not (run_dir / "metrics.jsonl").exists()
