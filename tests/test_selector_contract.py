"""The selector contract, checked early and in one line: the class before round 0, every batch it returns."""

from abc import abstractmethod

import numpy as np
import pytest

from benchmark.errors import UserError
from benchmark.runner import run_experiment
from benchmark.selectors import SelectionContext, Selector
from tests.conftest import assert_run_fails_at_round_one


class Returns(Selector):
    """Returns whatever ``kind`` names, to break one rule at a time."""

    def __init__(self, kind: str):
        self.kind = kind

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        size = len(context.pool)
        return {
            "repeats": np.zeros(n, dtype=np.int64),
            "out_of_range": np.arange(n) + size,
            "negative": np.arange(n) - 1,
            "wrong_shape": np.arange(n).reshape(-1, 2),
            "floats": np.arange(n, dtype=np.float64),
            "too_few": np.arange(n - 1),
            "empty": np.array([], dtype=np.int64),
        }[self.kind]


class Abstract(Selector):
    @abstractmethod
    def extra(self) -> None: ...


class NoSelect:
    allows_repeats = False


BROKEN_BATCHES = {
    "repeats": "rows must be distinct unless the class sets allows_repeats = True",
    "out_of_range": r"rows must lie in \[0, \d+\)",
    "negative": r"rows must lie in \[0, \d+\)",
    "wrong_shape": r"must return 20 rows as a 1-D array, got shape \(10, 2\)",
    "floats": "must return integer pool rows, got dtype float64",
    "too_few": r"got shape \(19,\)",
    "empty": "returned no rows",
}


@pytest.mark.parametrize(("kind", "rule"), BROKEN_BATCHES.items(), ids=BROKEN_BATCHES)
def test_a_batch_that_breaks_the_contract_stops_the_run_in_one_line(make_config, run_dir, kind, rule):
    cfg = make_config("selector=random", f"selector._target_={__name__}.Returns", f"+selector.kind={kind}")
    assert_run_fails_at_round_one(cfg, run_dir, rf"^round 1: selector Returns broke the selector contract: .*{rule}")
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("target", "message"),
    [(f"{__name__}.Abstract", r"is an abstract class; implement extra, select"),
     (f"{__name__}.NoSelect", r"has no select\(context, n\) method")],
)
def test_a_class_that_cannot_select_is_refused_before_any_data(make_config, run_dir, target, message):
    cfg = make_config("selector=random", f"selector._target_={target}")
    with pytest.raises(UserError, match=message):
        run_experiment(cfg, run_dir)
    assert not run_dir.exists()


def test_a_selector_that_needs_listed_pairs_is_refused_before_round_0_on_an_implicit_pool(make_config, run_dir,
                                                                                           monkeypatch):
    from benchmark import pools

    monkeypatch.setattr(pools, "IMPLICIT_MIN_PAIRS", 1)  # tiny rounds get the implicit all-pairs pool
    implicit = ("setup=cross_prompt", "candidates_per_round=null")
    with pytest.raises(UserError, match=r"^selector bald \(BALDSelector\) needs listed candidate pairs.*set "
                                        r"candidates_per_round to a number"):
        run_experiment(make_config("selector=bald", *implicit), run_dir)
    assert not run_dir.exists()
    assert run_experiment(make_config("selector=dopt", *implicit), run_dir)["status"] == "finished"
