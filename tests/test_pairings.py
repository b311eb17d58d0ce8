"""Pairings as strategy objects: each space unranks to every one of its pairs exactly once, a mixed pool holds the
stated share of cross-prompt pairs, and a setup that is not a known pairing is refused in one line."""

from itertools import combinations

import numpy as np
import pytest
from omegaconf import OmegaConf

from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT, SHIPPED, BetweenPrompts, Mixed, build_pairing
from benchmark.pools import build_pool, pair_keys
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec
from tests.conftest import compose_config


def brute_force(prompts: int, k: int, keep) -> set[tuple[int, int]]:
    return {(a, b) for a, b in combinations(range(prompts * k), 2) if keep(a // k, b // k)}


@pytest.mark.parametrize(("pairing", "keep"), [
    (IN_PROMPT, lambda p, q: p == q), (CROSS_PROMPT, lambda p, q: True), (BetweenPrompts(), lambda p, q: p != q),
    (Mixed(0.3), lambda p, q: True)])
@pytest.mark.parametrize(("prompts", "k"), [(1, 2), (3, 4), (5, 3), (2, 7)])
def test_every_space_unranks_to_each_of_its_pairs_once(pairing, keep, prompts, k):
    size = pairing.space_size(prompts, k)
    first, second = pairing.unrank(np.arange(size), prompts, k)
    pairs = list(zip(first.tolist(), second.tolist(), strict=True))
    assert len(set(pairs)) == size and set(pairs) == brute_force(prompts, k, keep)
    assert pairing.includes(first, second, k).all()


def test_a_mixed_pool_holds_the_stated_share_of_cross_prompt_pairs():
    prompts, k = np.arange(0, 40, 2), 5
    for fraction in (0.0, 0.25, 0.5, 1.0):
        pool = build_pool(prompts, k, Mixed(fraction), 200, np.zeros(0, np.int64), 200, np.random.default_rng(0))
        cross = pool.prompt_of_response[pool.first] != pool.prompt_of_response[pool.second]
        assert len(pool) == 200 and cross.sum() == round(200 * fraction)
        keys = pair_keys(*pool.global_pairs(np.arange(len(pool))).T, 200)
        assert len(np.unique(keys)) == len(keys)


def test_pool_size_is_each_part_at_most_its_cap():
    assert IN_PROMPT.pool_size(3, 4, None) == 18 and IN_PROMPT.pool_size(3, 4, 5) == 5
    assert Mixed(0.5).pool_size(2, 3, 100) == 6 + 9 and Mixed(0.5).pool_size(2, 3, 4) == 4
    assert [p.name for p in SHIPPED] == ["in_prompt", "cross_prompt", "mixed"]


@pytest.mark.parametrize(("node", "cap", "match"), [
    ({"_target_": "benchmark.pairings.CrossPrompt", "pairing": "in_prompt"}, 10,
     r"setup.pairing=in_prompt but setup._target_=benchmark.pairings.CrossPrompt is the pairing 'cross_prompt'"),
    ({"_target_": "benchmark.pairings.Mixed", "pairing": "mixed"}, None, r"candidates_per_round, which is null"),
    ({"_target_": "benchmark.pairings.Mixed", "pairing": "mixed", "cross_fraction": 1.5}, 10,
     r"cross_fraction=1.5 must lie in \[0, 1\]"),
    ({"_target_": "benchmark.pools.CandidatePool", "pairing": "x"}, 10, r"setup"),
    ({"pairing": "best_vs_rest"}, 10, r"setup: no `_target_` key"),
])
def test_an_unknown_or_inconsistent_setup_is_refused(node, cap, match):
    with pytest.raises(UserError, match=match):
        build_pairing(OmegaConf.create(node), cap)


def test_setup_mixed_runs_end_to_end(tmp_path):
    cfg = compose_config("setup=mixed", "setup.cross_fraction=0.25")
    assert RunSpec.from_config(cfg).labels.setup == "mixed"
    run_experiment(cfg, tmp_path)
    records = [OmegaConf.create(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(0 <= r.batch_cross_prompt_fraction <= 1 for r in records[1:])
