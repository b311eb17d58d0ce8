"""Config group options across Hydra's search path: which file an option comes from, and which options exist.

Hydra takes an option (``selector=random``) from the first folder on its search path that has it and says nothing
of the others: a ``conf/selector/random.yaml`` of your own, in a ``--config-dir`` or ``hydra.searchpath`` folder
(both searched after the shipped ``conf/``), is silently ignored. :func:`warn_shadowed` says so, naming both files.
A misspelt value inside a sweep list (``-m selector=dopt,dopp``) is otherwise Hydra's multi-line error, exit 1,
when the sweeper checks the jobs; :func:`check_sweep_values` names it in one line before any job runs.
"""

import difflib
import logging
import os
from pathlib import Path
from typing import Any

from hydra._internal.config_repository import ConfigRepository
from hydra._internal.config_search_path_impl import ConfigSearchPathImpl
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, ValueType
from omegaconf import DictConfig

from benchmark.errors import UserError

log = logging.getLogger(__name__)

#: Search-path sources that hold option files; ``structured://`` holds schemas, which Hydra merges, not shadows.
FILE_SCHEMES = ("file", "pkg")
#: Override values that are one option or a list of them (ranges, intervals and globs are not checked).
LISTED = (ValueType.ELEMENT, ValueType.CHOICE_SWEEP, ValueType.SIMPLE_CHOICE_SWEEP)
_warned: set[tuple[str, ...]] = set()


def hydra_runtime(cfg: DictConfig) -> Any:
    """Hydra's ``runtime`` node (choices, search path): a config's own hydra node, else the running app's; or None."""
    from hydra.core.hydra_config import HydraConfig

    if "hydra" in cfg:
        return cfg.hydra.runtime
    return HydraConfig.get().runtime if HydraConfig.initialized() else None


def repository(sources: Any) -> ConfigRepository:
    """Hydra's view of the search path a config was composed on (``hydra.runtime.config_sources``)."""
    path = ConfigSearchPathImpl()
    for source in sources:
        path.append(source.provider, f"{source.schema}://{source.path}")
    return ConfigRepository(path)


def option_files(repo: ConfigRepository, config_path: str) -> list[str]:
    """Every file on the search path that defines ``config_path`` (``selector/random``), first (the one used) first."""
    found: dict[str, str] = {}  # real path -> the path as the search path names it
    for source in repo.get_sources():
        if source.scheme() in FILE_SCHEMES and source.is_config(config_path):
            name = f"{config_path}.yaml"
            where = str(Path(source.path) / name) if source.scheme() == "file" else f"{source.full_path()}/{name}"
            found.setdefault(os.path.realpath(where), where)  # one folder on the path twice is one file
    return list(found.values())


def warn_shadowed(cfg: DictConfig) -> None:
    """One warning (per process) for each chosen option that several folders define: both files, and which runs."""
    runtime = hydra_runtime(cfg)
    if runtime is None or not runtime.get("config_sources"):  # a resumed run's saved config: nothing is looked up
        return
    repo = repository(runtime.config_sources)
    for key, option in runtime.choices.items():
        group = str(key).split("@")[0]
        if not isinstance(option, str) or group.startswith("hydra/"):
            continue
        files = option_files(repo, f"{group}/{option}")
        if len(files) > 1 and tuple(files) not in _warned:
            _warned.add(tuple(files))
            log.warning("%s=%s is defined by %d files on the config search path: %s runs, %s is ignored (Hydra "
                        "takes the first); to run yours, give it a name of its own (e.g. %s/%s_mine.yaml) and "
                        "choose that", group, option, len(files), files[0], " and ".join(files[1:]), group, option)


def sweep_overrides(config: DictConfig) -> list[Override]:
    """The overrides a multirun expands into jobs: its sweep file's ``hydra.sweeper.params``, then the command's."""
    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    return OverridesParser.create().parse_overrides([*params, *config.hydra.overrides.task])


def check_sweep_values(config: DictConfig) -> None:
    """Every group option a multirun will run exists on its search path: else one line naming the value, the
    options and the closest one."""
    repo = repository(config.hydra.runtime.config_sources)
    for override in sweep_overrides(config):
        group = override.key_or_group
        if override.is_delete() or override.is_hydra_override() or override.value_type not in LISTED:
            continue
        if not repo.group_exists(group):  # a value, not a group choice (seed=1,2)
            continue
        options = repo.get_group_options(group)
        values = override.sweep_string_iterator() if override.is_sweep_override() else \
            [override.get_value_element_as_str()]
        for value in values:
            if value not in options:
                close = difflib.get_close_matches(value, options, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                raise UserError(f"{group}={value} (in the sweep's {override.input_line}) is not a {group} option; "
                                f"{hint}the options: {', '.join(options)}")
