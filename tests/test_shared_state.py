"""A selector cannot spoil what its SelectionContext shares with the run: array writes are refused naming the
attribute, in-place tensor writes are found after ``select``, and the labels trained on are the labels saved."""

from typing import ClassVar

import numpy as np
import pytest
import torch

from benchmark import loop
from benchmark.runner import run_experiment
from benchmark.selectors import SelectionContext, Selector
from tests.conftest import assert_run_fails_at_round_one


class Vandal(Selector):
    """Writes into one attribute of its context (``how``), then returns a valid batch."""

    def __init__(self, how: str):
        self.how = how

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        if self.how == "labels":
            context.labels[:] = 1
        elif self.how == "pairs":
            context.labelled_pairs[0, 0] = 0
        elif self.how == "labels_ufunc":
            np.add(context.labels, 1, out=np.asarray(context.labels))
        elif self.how == "head":
            context.head.zero_()
        elif self.how == "features":
            context.features.mul_(2)
        elif self.how == "rewards":
            context.rewards.add_(1)
        elif self.how == "differences":
            context.pair_differences[0] = 0
        return np.arange(n)


class Copier(Selector):
    """Writes only into copies of what it reads: allowed."""

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        labels = np.array(context.labels)
        labels[:] = 1
        gap = context.reward_differences.clone()
        gap.zero_()
        picked = context.labels[: n]  # a view keeps the protection; a fancy-indexed copy does not
        copy = context.labels[np.arange(n)]
        copy[0] = 5
        assert picked.flags.writeable is False
        return np.arange(n)


REFUSED = {
    "labels": r"wrote into context\.labels, which is read-only: .* \(np\.array\(context\.labels\)\)",
    "pairs": r"wrote into context\.labelled_pairs, which is read-only",
    "labels_ufunc": r"wrote into a read-only array of its context",
    "head": r"changed context\.head in place: .* \(context\.head\.clone\(\)\)",
    "features": r"changed context\.features",
    "rewards": r"changed context\.rewards in place",
    "differences": r"changed context\.pair_differences in place",
}


@pytest.mark.parametrize(("how", "message"), REFUSED.items(), ids=REFUSED)
def test_a_write_into_the_context_stops_the_run_in_one_line(make_config, run_dir, how, message):
    cfg = make_config("selector=random", f"selector._target_={__name__}.Vandal", f"+selector.how={how}")
    assert_run_fails_at_round_one(cfg, run_dir, rf"^round 1: selector Vandal {message}")


def test_writing_into_copies_is_allowed_and_the_labels_trained_on_are_the_labels_saved(make_config, run_dir,
                                                                                     monkeypatch):
    trained = []
    train = loop.train_bradley_terry

    def recording(model, embeddings, first, second, labels, *args, **kwargs):
        trained.append(labels.cpu().numpy().copy())
        return train(model, embeddings, first, second, labels, *args, **kwargs)

    monkeypatch.setattr(loop, "train_bradley_terry", recording)
    summary = run_experiment(make_config("selector=random", f"selector._target_={__name__}.Copier"), run_dir)
    assert summary["status"] == "finished"
    saved = [np.load(path)["labels"] for path in sorted((run_dir / "selections").glob("round_*.npz"))]
    assert len(trained) == len(saved) == 3
    for round_index, labels in enumerate(trained):
        np.testing.assert_array_equal(labels, np.concatenate(saved[: round_index + 1]))


class Spy(Selector):
    seen: ClassVar[list[SelectionContext]] = []

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        Spy.seen.append(context)
        return np.arange(n)


def test_the_head_a_selector_sees_is_a_copy_of_the_model_weights(make_config):
    """A write the run only finds afterwards still never reaches the model (warm_start trains it further)."""
    from benchmark.config import instantiate_checked
    from benchmark.spec import RunSpec

    spec = RunSpec.from_config(make_config("reward_model.warm_start=true"))
    learning = loop.ActiveLearning(spec, instantiate_checked(spec.dataset, "dataset"), Spy())
    learning.run_round(0)
    learning.choose(1, learning.round_pool(1))
    (context,) = Spy.seen
    assert torch.equal(context.head, learning.model.theta.detach())
    assert context.head.data_ptr() != learning.model.theta.data_ptr()
