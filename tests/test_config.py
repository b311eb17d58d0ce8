"""Every option of every config group composes and instantiates; mistakes fail early and clearly."""

import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError

from benchmark.config import instantiate_checked
from benchmark.errors import UserError
from benchmark.paths import CONF_DIR
from benchmark.runner import run_experiment

GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize(
    ("group", "option"),
    [(g, o) for g in GROUPS if g not in {"sweep", "build", "hydra", "experiment_head"} for o in options(g)],
)
def test_every_option_composes(make_config, group, option):
    cfg = make_config(f"{group}={option}", tiny=False)
    assert group == "experiment" or cfg[group] is not None


@pytest.mark.parametrize("option", options("selector"))
def test_every_selector_instantiates(make_config, option):
    cfg = make_config(f"selector={option}")
    assert callable(instantiate_checked(cfg.selector, "selector").select)


@pytest.mark.parametrize("option", ["synthetic", "toy2d"])
def test_embedded_datasets_instantiate(make_config, option):
    cfg = make_config(f"dataset={option}", f"model={option}", tiny=False)
    data = instantiate_checked(cfg.dataset, "dataset")
    assert data.train_embeddings.shape[2] == cfg.model.dim
    assert data.train_rewards.shape == data.train_embeddings.shape[:2]


def test_typo_in_schema_key_fails_at_compose(make_config):
    with pytest.raises((ConfigCompositionException, ConfigKeyError)):
        make_config("reward_model.widht=3")


def test_unknown_selector_lists_the_options(make_config):
    with pytest.raises(ConfigCompositionException) as err:
        make_config("selector=nope")
    message = str(err.value) + str(err.value.__cause__)
    assert "Available options" in message and "dopt" in message


def test_unknown_selector_parameter_names_it(make_config):
    cfg = make_config("selector=dopt", "+selector.epz=1")
    with pytest.raises(UserError, match=r"epz.*parameters it accepts: eps, past_aware, weighted"):
        instantiate_checked(cfg.selector, "selector")


def test_batch_larger_than_pool_fails_before_training(make_config, run_dir):
    cfg = make_config("batch.size=500", "budget=500")
    with pytest.raises(UserError, match=r"batch.size=500 exceeds the 200 candidate pairs"):
        run_experiment(cfg, run_dir)
    assert not (run_dir / "metrics.jsonl").exists()


def test_budget_must_be_a_multiple_of_the_batch(make_config, run_dir):
    with pytest.raises(UserError, match=r"budget=50 is not a multiple of batch\.size=20"):
        run_experiment(make_config("budget=50"), run_dir)
