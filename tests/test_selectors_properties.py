"""Every selector, built from its YAML, returns n valid, distinct pool rows in both setups."""

import numpy as np
import pytest
import torch
from hydra.utils import get_object
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from benchmark.config import Pairing, instantiate_checked
from benchmark.errors import UserError
from benchmark.paths import CONF_DIR
from benchmark.pools import CandidatePool, build_pool, pair_keys
from benchmark.selectors import SelectionContext

NAMES = ["random", "entropy", "maxdiff", "dopt", "pastaware_dopt", "xtx", "greedy_dopt", "bald", "batchbald", "coreset"]
NEW = ["maxdiff", "greedy_dopt", "bald", "batchbald", "coreset"]
PROMPTS, K, H = 40, 5, 6


def build(name: str, **overrides):
    node = OmegaConf.load(CONF_DIR / "selector" / f"{name}.yaml")
    return instantiate_checked(OmegaConf.merge(node, overrides), "selector")


def random_context(seed: int, pairing: Pairing) -> tuple[SelectionContext, np.ndarray]:
    rng = np.random.default_rng(seed)
    total = PROMPTS * K
    phi = torch.as_tensor(rng.normal(size=(total, H)), dtype=torch.float32)
    labelled = build_pool(np.sort(rng.choice(PROMPTS, 6, replace=False)), K, pairing, 12, np.zeros(0, np.int64),
                          total, rng)
    pairs = labelled.global_pairs(np.arange(len(labelled)))
    keys = np.sort(pair_keys(pairs[:, 0], pairs[:, 1], total))
    pool = build_pool(np.sort(rng.choice(PROMPTS, 8, replace=False)), K, pairing, 60, keys, total, rng)
    return SelectionContext(
        pool=pool, features=phi[torch.as_tensor(pool.response_ids)],
        head=torch.as_tensor(rng.normal(size=H) / 2, dtype=torch.float32),
        labelled_pairs=pairs, labels=(rng.random(len(pairs)) < 0.5).astype(np.int8),
        featurize=lambda ids: phi[torch.as_tensor(ids)], rng=np.random.default_rng(seed),
    ), keys


@pytest.mark.parametrize("name", [*NAMES, "bald_ensemble"])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), pairing=st.sampled_from(list(Pairing)), fraction=st.floats(0.01, 1.0))
def test_rows_are_valid_distinct_and_unlabelled(name, seed, pairing, fraction):
    selector = build("bald", posterior="ensemble", samples=4) if name == "bald_ensemble" else build(name)
    context, labelled_keys = random_context(seed, pairing)
    n = max(1, int(fraction * len(context.pool)))
    rows = np.asarray(selector.select(context, n))
    assert rows.shape == (n,) and rows.dtype.kind == "i"
    assert rows.min() >= 0 and rows.max() < len(context.pool)
    assert len(np.unique(rows)) == n
    pairs = context.pool.global_pairs(rows)
    assert not np.isin(pair_keys(pairs[:, 0], pairs[:, 1], PROMPTS * K), labelled_keys).any()


def test_selection_is_deterministic_given_the_rng():
    for name in NAMES:
        first, _ = random_context(3, Pairing.cross_prompt)
        again, _ = random_context(3, Pairing.cross_prompt)
        np.testing.assert_array_equal(build(name).select(first, 10), build(name).select(again, 10), err_msg=name)


@pytest.mark.parametrize("name", NEW)
def test_new_selectors_refuse_the_implicit_pool(name):
    context, _ = random_context(0, Pairing.cross_prompt)
    empty = np.zeros(0, dtype=np.int64)
    context.pool = CandidatePool(context.pool.response_ids, empty, empty, K, implicit=True)
    with pytest.raises(UserError, match=name):
        build(name).select(context, 5)


def test_every_yaml_parameter_is_commented_and_the_target_imports():
    for name in NEW:
        text = (CONF_DIR / "selector" / f"{name}.yaml").read_text()
        node = OmegaConf.create(text)
        get_object(node._target_)
        assert node.name == name
        for key in set(node) - {"_target_", "name"}:
            line = next(line for line in text.splitlines() if line.startswith(f"{key}:"))
            assert "#" in line, f"{name}.yaml: {key} has no comment"
