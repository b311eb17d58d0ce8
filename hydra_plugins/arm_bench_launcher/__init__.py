"""Sweeps that compose each job's config once, on the workers, before any job runs.

Hydra composes a job's config twice under the joblib launcher: its basic sweeper composes every job in the
sweep's parent, one after another, to catch a bad override before anything runs (the workers wait meanwhile),
and the launcher's worker composes it again to run it. A composition takes about 0.15 s of CPU; in a results
sweep the two took 6 % of the sampled time, the parent's share while the workers sat idle (docs/scale.md, "Sweeps
of many short runs").

``hydra/launcher=joblib`` (conf/hydra/launcher/joblib.yaml) is :class:`JoblibLauncher`: it composes every job on
the joblib workers in parallel — a job failing to compose still stops the sweep before any job runs, with
Hydra's message — then hands each job its composed config. The sweeper of conf/config.yaml,
:class:`BasicSweeper`, is Hydra's basic sweeper that leaves the check to a launcher declaring
``composes_every_job``; with any other launcher it checks as Hydra's does.
"""

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper as HydraBasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_joblib_launcher import _core
from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher as PluginJoblibLauncher
from omegaconf import DictConfig, open_dict

#: Hydra's warning for a config file of a plugin's group that has the name of the plugin's own config.
SCHEMA_MATCHING = r"\s*'hydra/launcher/\w+' is validated against ConfigStore schema"


def quiet_schema_matching() -> None:
    """Silence Hydra's warning that it checks conf/hydra/{launcher,sweeper}/*.yaml against the plugin's schema.

    Each of those files is complete on its own; Hydra also checks it against the plugin's schema of the same name
    and warns, once per composition (in every worker too), that it will stop doing so.
    """
    warnings.filterwarnings("ignore", message=SCHEMA_MATCHING)


class BasicSweeper(HydraBasicSweeper):
    """Hydra's basic sweeper, leaving the composition check to a launcher that composes every job first."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        if not getattr(self.launcher, "composes_every_job", False):
            super().validate_batch_is_legal(batch)


class JoblibLauncher(PluginJoblibLauncher):
    """hydra-joblib-launcher's launcher, composing each job once, on the workers, before any job runs."""

    composes_every_job = True

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from joblib import Parallel, delayed

        assert self.config is not None and self.task_function is not None and self.hydra_context is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        options = {**self.joblib, "backend": "loky"}  # as the plugin: its threading backend breaks Hydra
        _core.process_joblib_cfg(options)
        _core.log.info("Joblib.Parallel(%s) is launching %d jobs", ",".join(f"{k}={v}" for k, v in options.items()),
                       len(job_overrides))
        for index, overrides in enumerate(job_overrides):
            _core.log.info("\t#%d : %s", initial_job_idx + index, " ".join(filter_overrides(overrides)))
        state = Singleton.get_state()
        # Two calls, so the jobs start from joblib's own batching, not one tuned on compositions; loky keeps the
        # same worker processes for both.
        configs = Parallel(**options)(delayed(compose)(list(overrides), self.hydra_context, self.config, state)
                                      for overrides in job_overrides)
        return Parallel(**options)(delayed(execute)(initial_job_idx + index, config, self.hydra_context,
                                                    self.task_function, state)
                                   for index, config in enumerate(configs))


def compose(overrides: list[str], hydra_context: HydraContext, config: DictConfig, state: dict[Any, Any]) -> DictConfig:
    """One job's config, composed as the sweeper's check and the plugin's worker compose it."""
    setup_globals()
    Singleton.set_state(state)
    quiet_schema_matching()
    return hydra_context.config_loader.load_sweep_config(config, overrides)


def execute(index: int, config: DictConfig, hydra_context: HydraContext, task_function: TaskFunction,
            state: dict[Any, Any]) -> JobReturn:
    """Run one job from its composed config, as the plugin's ``execute_job`` does after composing it."""
    setup_globals()
    Singleton.set_state(state)
    with open_dict(config):
        config.hydra.job.id = f"{config.hydra.job.name}_{index}"
        config.hydra.job.num = index
    HydraConfig.instance().set_config(config)
    return run_job(hydra_context=hydra_context, config=config, task_function=task_function,
                   job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
