"""Read finished runs from sweep folders and sort them into settings (panels) and selectors (lines).

Plots read the files a run leaves behind (``config.yaml``, ``summary.json``, ``metrics.jsonl``,
``timings.jsonl``), never W&B: offline runs cannot be queried. A *setting* is every config key that
varies across the runs except the selector and the seed, so one loader serves every sweep: the model
for Fig. 3, dataset and batch size for Fig. 4, β / warm start / width for the sensitivity sweep.
"""

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmark.errors import UserError
from benchmark.outputs import RunFolder, read_jsonl
from plots.style import order_key

log = logging.getLogger(__name__)

#: Keys that never define a setting: execution details, or where the files happen to live.
IGNORED_KEYS = frozenset(
    {"seed", "output_root", "overwrite", "torch_threads", "reward_model.device", "eval.chunk_prompts",
     "dataset.cache_dir", "dataset.root"}
)
IGNORED_PREFIXES = ("logger.", "selector.")
#: Order in which varying keys name a setting; the first keys that determine the rest are kept.
KEY_ORDER = ("dataset.name", "model.name", "setup.name", "batch.name")
ALL_RUNS = "all runs"  # the label of the only setting when nothing but selector and seed varies


@dataclass
class Run:
    """One finished run, as read from its folder."""

    path: Path
    config: dict[str, Any]  # flattened: "reward_model.width" -> 64
    summary: dict[str, Any]
    metrics: list[dict[str, Any]]
    timings: list[dict[str, Any]]
    setting: str = ""
    line: str = ""

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def selector(self) -> str:
        return str(self.summary["selector"])


@dataclass
class Setting:
    """The runs of one panel, by line (selector) and seed."""

    label: str
    lines: dict[str, dict[int, Run]] = field(default_factory=dict)

    def selector_of(self, line: str) -> str:
        return next(iter(self.lines[line].values())).selector

    def ordered_lines(self) -> list[str]:
        """Line names in legend order: known selectors first (plots.style), then by name."""
        return sorted(self.lines, key=lambda name: (order_key(self.selector_of(name)), name))


def freeze(value: Any) -> Any:
    """A hashable copy (lists -> tuples, dicts -> sorted item tuples), so values can be compared in sets."""
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    return value


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``, with hashable leaves."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = freeze(value)
    return flat


def read_run(folder: Path) -> Run | None:
    """The run in ``folder`` if it finished, else None (failed and running runs are not plotted)."""
    files = RunFolder(folder)
    summary = files.read_summary()
    if summary is None or summary.get("status") != "finished" or not files.config.exists():
        return None
    config = flatten(yaml.safe_load(files.config.read_text()) or {})
    return Run(folder, config, summary, read_jsonl(files.metrics), read_jsonl(files.timings))


def find_runs(roots: Iterable[Path]) -> list[Run]:
    """Every finished run under ``roots`` (a run folder or a sweep folder), each folder read once."""
    runs: list[Run] = []
    seen: set[Path] = set()
    unfinished = 0
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise UserError(f"{root} does not exist; pass a sweep folder such as outputs/multirun/<sweep>")
        for summary_path in sorted(root.rglob(RunFolder(Path()).summary.name)):
            folder = summary_path.parent.resolve()
            if folder in seen:
                continue
            seen.add(folder)
            run = read_run(folder)
            if run is None:
                unfinished += 1
            else:
                runs.append(run)
    if unfinished:
        log.warning("skipped %d run folder(s) that did not finish", unfinished)
    if not runs:
        raise UserError(f"no finished runs (summary.json with status finished) under {', '.join(map(str, roots))}")
    return runs


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort 'b125' before 'b1000' and 0.3 before 3."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ((0, float(value), ""),)
    parts = re.split(r"(\d+(?:\.\d+)?)", str(value))
    return tuple((0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts) if p)


def naming_keys(configs: Sequence[dict[str, Any]], candidates: Iterable[str], first: Sequence[str]) -> list[str]:
    """The varying keys among ``candidates`` that are needed to tell the configs apart.

    A key is dropped when the keys already kept determine its value (``model.dim`` follows ``model.name``),
    so labels stay short. Keys in ``first`` are considered first, then the rest alphabetically.
    """
    varying = [k for k in candidates if len({c.get(k) for c in configs}) > 1]
    ordered = [k for k in first if k in varying] + sorted(k for k in varying if k not in first)
    kept: list[str] = []
    for key in ordered:
        seen: dict[tuple[Any, ...], Any] = {}
        if any(seen.setdefault(tuple(c.get(k) for k in kept), c.get(key)) != c.get(key) for c in configs):
            kept.append(key)
    return kept


def describe(config: dict[str, Any], keys: Sequence[str]) -> str:
    """'harmless, b250' for group names; 'beta=0.3' for other keys."""
    parts = []
    for key in keys:
        value = config.get(key)
        parts.append(str(value) if key.endswith(".name") else f"{key.rsplit('.', 1)[-1]}={value}")
    return ", ".join(parts)


def group_runs(runs: Sequence[Run]) -> list[Setting]:
    """Settings in natural order, each with its lines (selector plus any varied selector parameter) and seeds."""
    configs = [r.config for r in runs]
    all_keys = {k for c in configs for k in c}
    setting_keys = naming_keys(
        configs, [k for k in all_keys if k not in IGNORED_KEYS and not k.startswith(IGNORED_PREFIXES)], KEY_ORDER
    )
    line_keys = naming_keys(configs, [k for k in all_keys if k.startswith("selector.")], ["selector.name"])
    settings: dict[tuple[Any, ...], Setting] = {}
    for run in runs:
        run.setting = describe(run.config, setting_keys) or ALL_RUNS
        extra = [k for k in line_keys if k != "selector.name"]
        run.line = ", ".join(filter(None, [run.selector, describe(run.config, extra)]))
        key = tuple(natural_key(run.config.get(k)) for k in setting_keys)
        setting = settings.setdefault(key, Setting(run.setting))
        by_seed = setting.lines.setdefault(run.line, {})
        if run.seed in by_seed:
            log.warning("%s repeats %s (seed %d, %s); keeping %s", run.path, run.line, run.seed, run.setting,
                        by_seed[run.seed].path)
            continue
        by_seed[run.seed] = run
    return [settings[key] for key in sorted(settings)]
