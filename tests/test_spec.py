"""The run spec: one rule for which keys define a run, names from values, config checks before any data."""

import os
from pathlib import Path

import pytest

from benchmark.errors import UserError
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec, differing_keys, is_run_only, result_config, run_name
from tests.conftest import compose_config


def test_run_only_keys_never_define_a_run():
    plain = compose_config()
    tracked = compose_config("torch_threads=1", "logger=wandb", "overwrite=true", "output_root=/elsewhere",
                             "cache_dir=/tmp/other", "allow_changed_inputs=true")
    assert result_config(plain) == result_config(tracked)
    assert RunSpec.from_config(plain).cell == RunSpec.from_config(tracked).cell
    assert differing_keys(result_config(plain), result_config(compose_config("reward_model.device=cpu"))) == [
        "reward_model.device"]
    assert is_run_only("logger.tags") and is_run_only("dataset.root") and not is_run_only("reward_model.device")


def test_folder_names_follow_the_same_rule():
    assert run_name(["torch_threads=1", "seed=3", "logger=none", "+sweep=smoke", "hydra/launcher=joblib"]) == "seed=3"
    assert run_name(["overwrite=true"]) == "default"


def test_names_come_from_values_not_copies():
    labels = RunSpec.from_config(compose_config("batch.size=20", "setup=cross_prompt")).labels
    assert (labels.batch, labels.setup, labels.selector, labels.preset) == ("b20", "cross_prompt", "dopt", "quick")
    assert RunSpec.from_config(compose_config("selector=random")).labels.selector == "random"


def test_cell_separates_presets_and_keeps_selectors_and_seeds_together():
    dopt = RunSpec.from_config(compose_config("selector=dopt", "seed=0"))
    random = RunSpec.from_config(compose_config("selector=random", "seed=4"))
    assert dopt.cell == random.cell
    assert RunSpec.from_config(compose_config("reward_model.width=32")).cell != dopt.cell
    assert RunSpec.from_config(compose_config("experiment=paper", *("reward_model.width=16",))).cell != dopt.cell


def test_a_preset_overrides_groups_so_the_command_line_wins():
    assert compose_config("experiment=toy", tiny=False).batch.size == 10
    assert compose_config("experiment=toy", "batch=b125", tiny=False).batch.size == 125


def test_config_only_mistakes_fail_before_any_data_is_generated(tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("ARM_BENCH_CACHE", str(cache))
    cfg = compose_config("experiment=paper_scale", "budget=7", tiny=False)
    with pytest.raises(UserError, match=r"^budget=7 is not a multiple of batch\.size=125"):
        run_experiment(cfg, tmp_path / "run")
    assert not cache.exists() or not any(cache.rglob("*.npy"))
    assert not (tmp_path / "run").exists()


def test_library_api_runs_like_the_cli(tmp_path: Path, monkeypatch):
    import benchmark
    from tests.conftest import TINY

    monkeypatch.chdir(tmp_path)
    first = benchmark.run([*TINY, "selector=random"])
    assert first.folder == (tmp_path / "outputs" / "runs" / run_name([*TINY, "selector=random"])).resolve()
    assert [r["round"] for r in first.records] == [0, 1, 2]
    assert first.summary["status"] == "finished" and first.summary["labels"]["selector"] == "random"
    again = benchmark.run([*TINY, "selector=random"])
    assert again.summary == first.summary and os.listdir(first.folder) == os.listdir(again.folder)
