"""Group options across the search path: a user option that shadows a shipped one is one warning naming both files
and the one that runs; a misspelt value in a sweep list is one line naming it and the options, before any job runs."""

import logging
import os
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

import benchmark
from benchmark import choices
from benchmark.choices import check_sweep_values, warn_shadowed
from benchmark.errors import UserError
from benchmark.paths import CONF_DIR
from benchmark.spec import SWEEP_NAME_VARIABLE
from benchmark.sweep import SweepCallback
from tests.conftest import TINY, compose_config

ENTROPY = "_target_: benchmark.selectors.entropy.EntropySelector\n"


@pytest.fixture
def user_conf(tmp_path: Path) -> Path:
    """A user's config folder with ``selector/random.yaml`` (shadowing the shipped one) and ``selector/mine.yaml``."""
    folder = tmp_path / "conf" / "selector"
    folder.mkdir(parents=True)
    (folder / "random.yaml").write_text(ENTROPY)
    (folder / "mine.yaml").write_text(ENTROPY)
    return folder.parent


@pytest.fixture
def shadow_warnings(monkeypatch, caplog) -> pytest.LogCaptureFixture:
    monkeypatch.setattr(choices, "_warned", set())
    caplog.set_level(logging.WARNING, logger="benchmark.choices")
    return caplog


def searching(folder: Path) -> str:
    return f"hydra.searchpath=[file://{folder}]"


def test_a_user_option_that_shadows_a_shipped_one_is_one_warning_naming_both_files_and_which_runs(
        user_conf, shadow_warnings, tmp_path):
    result = benchmark.run([*TINY, "selector=random", f"output_root={tmp_path}"], config_dir=user_conf)
    (line,) = [record.getMessage() for record in shadow_warnings.records]
    shipped, yours = CONF_DIR / "selector" / "random.yaml", user_conf / "selector" / "random.yaml"
    assert line.startswith(f"selector=random is defined by 2 files on the config search path: {shipped} runs, "
                           f"{yours} is ignored (Hydra takes the first); to run yours, give it a name of its own")
    assert result.summary["labels"]["selector"] == "random"
    assert OmegaConf.load(result.folder / "config.yaml").selector._target_.endswith("RandomSelector")  # as it says
    warn_shadowed(compose_config("selector=random", searching(user_conf)))
    assert len(shadow_warnings.records) == 1  # once per process


@pytest.mark.parametrize("overrides", [["selector=mine"], ["selector=random", searching(CONF_DIR)], []],
                         ids=["an option of your own", "the shipped folder twice", "no folder of yours"])
def test_options_defined_once_are_silent(user_conf, shadow_warnings, overrides):
    if overrides[:1] == ["selector=mine"]:
        overrides = [*overrides, searching(user_conf)]
    warn_shadowed(compose_config(*overrides))
    assert shadow_warnings.records == []


def sweep_of(*overrides: str, params: dict[str, str] | None = None, folder: Path | None = None) -> DictConfig:
    """A composed config as a multirun's parent sees it: ``overrides`` on its command line, ``params`` from a sweep
    file, ``folder`` on the search path."""
    cfg = compose_config(*([searching(folder)] if folder else []))
    with read_write(cfg), open_dict(cfg):
        cfg.hydra.overrides.task = list(overrides)
        cfg.hydra.sweeper.params = params or {}
    return cfg


OPTIONS = r"the options: badge, bal_pm, .*, random, rucb, xtx$"
BAD_SWEEPS = {
    "a list": ((["selector=dopt,dopp"], None),
               rf"^selector=dopp \(in the sweep's selector=dopt,dopp\) is not a selector option; did you mean dopt\? "
               rf"{OPTIONS}"),
    "choice()": ((["seed=0,1", "selector=choice(random,entrpy)"], None), r"^selector=entrpy .*did you mean entropy\?"),
    "a sweep file's list": (([], {"selector": "random,bald", "setup": "in_prompt,cross_promt"}),
                            r"^setup=cross_promt \(in the sweep's setup=in_prompt,cross_promt\) is not a setup option"),
    "nothing close": ((["dataset=synthetic,zzzz"], None), r"^dataset=zzzz .* is not a dataset option; the options:"),
}


@pytest.mark.parametrize(("given", "match"), BAD_SWEEPS.values(), ids=BAD_SWEEPS.keys())
def test_a_misspelt_value_in_a_sweep_is_one_line_naming_it_and_the_options(given, match):
    overrides, params = given
    with pytest.raises(UserError, match=match) as caught:
        check_sweep_values(sweep_of(*overrides, params=params))
    assert "\n" not in str(caught.value)


def test_good_sweeps_pass_your_own_options_included(user_conf):
    check_sweep_values(sweep_of("selector=dopt,mine", "seed=0,1", "reward_model.width=8,16",
                                "batch.size=range(10,30,10)", "setup=glob(*)", params={"selector": "random,mine"},
                                folder=user_conf))


def test_the_sweep_stops_with_exit_2_before_it_makes_its_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(SWEEP_NAME_VARIABLE, raising=False)
    cfg = sweep_of("selector=dopt,dopp")
    with read_write(cfg), open_dict(cfg):
        cfg.output_root = str(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        SweepCallback().on_multirun_start(cfg)
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("arm-bench: error: selector=dopp (in the sweep's selector=dopt,dopp) is not a selector")
    assert list(tmp_path.iterdir()) == [] and SWEEP_NAME_VARIABLE not in os.environ
