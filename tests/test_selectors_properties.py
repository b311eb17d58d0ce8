"""Every selector config in conf/selector/, built from its YAML, returns n valid, distinct pool rows in both setups.

Selectors are enumerated from the folder, so a new YAML gets these tests without an edit here. Rules are
generic: a selector whose class takes the run's ``posterior`` is also run with the ensemble posterior; a selector
may refuse the implicit all-pairs pool (with a UserError that names it and the fix) or must select from it correctly;
rows may repeat only when the selector says ``allows_repeats``.
"""

import dataclasses
import inspect
import re

import numpy as np
import pytest
import torch
from hydra.utils import get_object
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from benchmark.config import instantiate_checked
from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT, SHIPPED, Pairing
from benchmark.paths import CONF_DIR
from benchmark.pools import build_pool, pair_keys
from benchmark.selectors import SelectionContext
from benchmark.selectors.posterior import EnsemblePosterior, Posterior, build_posterior

NAMES = sorted(path.stem for path in (CONF_DIR / "selector").glob("*.yaml"))
PROMPTS, K, H = 40, 5, 6
#: A posterior small enough for property tests (the ensemble fits one ridge head per sample).
ENSEMBLE = {"posterior": EnsemblePosterior(samples=4)}


def yaml_node(name: str):
    return OmegaConf.load(CONF_DIR / "selector" / f"{name}.yaml")


def takes_posterior(name: str) -> bool:
    return "posterior" in inspect.signature(get_object(yaml_node(name)._target_)).parameters


def build(name: str, posterior: Posterior | None = None, **overrides):
    """The selector of conf/selector/<name>.yaml with ``overrides``, handed ``posterior`` (default: the run's
    default, conf/posterior/laplace.yaml) when its class takes one, as the runner does."""
    extra = {}
    if takes_posterior(name):
        extra["posterior"] = posterior or build_posterior(OmegaConf.load(CONF_DIR / "posterior" / "laplace.yaml"))
    return instantiate_checked(OmegaConf.merge(yaml_node(name), overrides), "selector", **extra)


VARIANTS = [pytest.param(name, {}, id=name) for name in NAMES] + [
    pytest.param(name, ENSEMBLE, id=f"{name}-ensemble") for name in NAMES if takes_posterior(name)
]


def random_context(seed: int, pairing: Pairing, implicit: bool = False) -> tuple[SelectionContext, np.ndarray]:
    """A pool of 8 random prompts (implicit: every cross-prompt pair, listed nowhere) and 12 labelled pairs among
    6 prompts, 3 of them the pool's, so some labelled pairs fall in the pool's pair space and must be left out."""
    rng = np.random.default_rng(seed)
    total = PROMPTS * K
    phi = torch.as_tensor(rng.normal(size=(total, H)), dtype=torch.float32)
    order = rng.permutation(PROMPTS)
    prompts, labelled_prompts = np.sort(order[:8]), np.sort(order[5:11])
    labelled = build_pool(labelled_prompts, K, pairing, 12, np.zeros(0, np.int64), total, rng)
    pairs = labelled.global_pairs(np.arange(len(labelled)))
    keys = np.sort(pair_keys(pairs[:, 0], pairs[:, 1], total))
    if implicit:
        pool = build_pool(prompts, K, CROSS_PROMPT, None, keys, total, rng, implicit_min_pairs=1)
    else:
        pool = build_pool(prompts, K, pairing, 60, keys, total, rng)
    return SelectionContext(
        pool=pool, features=phi[torch.as_tensor(pool.response_ids)],
        head=torch.as_tensor(rng.normal(size=H) / 2, dtype=torch.float32),
        labelled_pairs=pairs, labels=(rng.random(len(pairs)) < 0.5).astype(np.int8),
        featurize=lambda ids: phi[torch.as_tensor(ids)], rng=np.random.default_rng(seed),
    ), keys


def assert_valid(rows: object, n: int, context: SelectionContext, labelled_keys: np.ndarray, repeats: bool) -> None:
    rows = np.asarray(rows)
    assert rows.shape == (n,) and rows.dtype.kind == "i"
    assert rows.min() >= 0 and rows.max() < len(context.pool)
    assert repeats or len(np.unique(rows)) == n
    assert not context.pool.is_excluded(rows).any()
    pairs = context.pool.global_pairs(rows)
    assert not np.isin(pair_keys(pairs[:, 0], pairs[:, 1], PROMPTS * K), labelled_keys).any()


@pytest.mark.parametrize(("name", "overrides"), VARIANTS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), pairing=st.sampled_from(SHIPPED), fraction=st.floats(0.01, 1.0))
def test_rows_are_valid_distinct_and_unlabelled(name, overrides, seed, pairing, fraction):
    selector = build(name, **overrides)
    context, labelled_keys = random_context(seed, pairing)
    n = max(1, int(fraction * len(context.pool)))
    assert_valid(selector.select(context, n), n, context, labelled_keys, selector.allows_repeats)


@pytest.mark.parametrize(("name", "overrides"), VARIANTS)
def test_selection_is_deterministic_given_the_rng(name, overrides):
    first, _ = random_context(3, CROSS_PROMPT)
    again, _ = random_context(3, CROSS_PROMPT)
    selector, twin = build(name, **overrides), build(name, **overrides)
    np.testing.assert_array_equal(selector.select(first, 10), twin.select(again, 10))


@pytest.mark.parametrize("name", NAMES)
def test_the_implicit_pool_is_refused_clearly_or_served_correctly(name):
    context, labelled_keys = random_context(0, CROSS_PROMPT, implicit=True)
    assert context.pool.implicit and len(context.pool.excluded) > 0
    selector = build(name)
    try:
        rows = selector.select(context, 100)
    except UserError as err:
        assert re.search(rf"{name}|explicit candidate pool", str(err)) and "candidates_per_round" in str(err)
        assert not selector.implicit_pool, "it says it serves the implicit pool, but refuses it"
        return
    assert selector.implicit_pool, "it serves the implicit pool: set implicit_pool = True so runs may use it"
    assert_valid(rows, 100, context, labelled_keys, selector.allows_repeats)


@pytest.mark.parametrize("name", NAMES)
def test_every_yaml_parameter_is_commented_and_the_target_imports(name):
    text = (CONF_DIR / "selector" / f"{name}.yaml").read_text()
    node = OmegaConf.create(text)
    get_object(node._target_)
    for key in set(node) - {"_target_", "name"}:
        line = next(line for line in text.splitlines() if line.startswith(f"{key}:"))
        assert "#" in line, f"{name}.yaml: {key} has no comment"


def test_labelled_features_handed_in_replace_featurize():
    context, _ = random_context(1, IN_PROMPT)
    expected = context.labelled_differences
    ids = np.unique(context.labelled_pairs)

    def refuse(ids: np.ndarray) -> torch.Tensor:
        raise AssertionError("featurize must not run when labelled_features are given")

    given = dataclasses.replace(context, featurize=refuse, labelled_features=context.featurize(ids))
    torch.testing.assert_close(given.labelled_differences, expected, rtol=0, atol=0)
    short = dataclasses.replace(context, featurize=refuse, labelled_features=context.featurize(ids[1:]))
    with pytest.raises(ValueError, match="labelled_features"):
        _ = short.labelled_differences
