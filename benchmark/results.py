"""Run folders as one tidy table: a row per run and round, every metric, timing, label and result-defining key.

Plots, tables and users' own analyses all start from :func:`load_runs`, so they agree on what a run is and
on which runs form a comparison cell (``setting``): the cell is :func:`benchmark.spec.cell_config`, and its
description shows only the labels and keys needed to tell the cells read apart (``gemma2b, b125``,
``beta=0.3, width=64``). It reads files only, never W&B, so offline runs work.

Columns:

* ``run`` (folder), ``status`` (``finished``/``failed``/``interrupted``, or ``unfinished`` before a run wrote
  its summary), ``reason`` (why it failed), ``allow_changed_inputs`` (resumed onto changed inputs on purpose),
  ``inputs_changed`` (that, or a finished run whose inputs a later rerun found changed since it ran:
  ``inputs_changed_since``, benchmark/stale.py);
* the labels ``preset``, ``dataset``, ``model``, ``setup``, ``batch``, ``selector`` (display names, plain
  column names: result-defining keys are dotted, so they never clash);
* ``setting`` (ordered categorical) and ``line`` (the selector plus those of its parameters that vary among its
  runs, never one that follows the seed; or the keys given as ``by``): the panel and the curve a run belongs to;
* every ``metrics.jsonl`` key (``round``, ``n_labels``, ``one_minus_spearman``, ``bon/N``, ...; ``null`` -> NaN)
  and every ``timings.jsonl`` key (``selection_seconds``, ...);
* every result-defining config key, flattened (``seed``, ``batch.size``, ``reward_model.width``, lists as tuples).

pandas is imported here only; ``import benchmark.experiment`` never loads this module.
"""

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from benchmark import stale
from benchmark.errors import UserError
from benchmark.outputs import RunFolder, damaged, read_jsonl, read_text
from benchmark.spec import cell_config, completed, make_labels

log = logging.getLogger(__name__)

LABELS = ("preset", "dataset", "model", "setup", "batch", "selector")
#: Labels that may name a setting, in the order they are tried; a label is used only where it follows the cell.
SETTING_LABELS = ("preset", "dataset", "model", "setup", "batch")
IDENTITY = ("run", "status", "reason", "allow_changed_inputs", "inputs_changed", "setting", "line", *LABELS, "seed")
FINISHED = "finished"
UNFINISHED = "unfinished"  # no summary.json yet: running, or killed before it could write one
#: The default grouping of runs into lines: the selector and its variants (see :func:`name_lines`).
BY_SELECTOR = ("selector",)
ALL_RUNS = "all runs"  # the only setting's name when nothing but selector and seed varies
FIX = "delete the run folder (or its file) and rerun it"


def load_runs(
    *folders: Path | str, include_unfinished: bool = False, strict: bool = False, by: Sequence[str] = BY_SELECTOR
) -> pd.DataFrame:
    """Every run under ``folders`` (sweep or run folders), one row per run and round.

    Only finished runs unless ``include_unfinished``; a run without rounds yet then has one row with NaN metrics.
    A damaged run (an unreadable summary, config or metrics line) is skipped with one warning naming it, or
    refused with ``strict``. ``by`` names the ``line`` column (see :func:`name_lines`).
    """
    runs = []
    skipped = 0
    for folder in run_folders(folders):
        try:
            summary = RunFolder(folder).read_summary() or {}
            if summary.get("status") == FINISHED or include_unfinished:
                runs.append(read_run(folder, summary))
            else:
                skipped += 1
        except UserError as err:
            if strict:
                raise
            log.warning("skipped the damaged run %s: %s (strict=True, or --strict, refuses it instead)", folder, err)
    if skipped:
        log.warning("skipped %d run folder(s) that did not finish (include_unfinished=True to keep them)", skipped)
    if not runs:
        raise UserError(f"no finished runs (summary.json with status finished) under {', '.join(map(str, folders))}")
    settings = name_settings(runs)
    name_lines(runs, by)
    return tidy_frame(runs, settings)


def run_folders(roots: Iterable[Path | str]) -> list[Path]:
    """Folders under ``roots`` holding a run (a summary or metrics), each once (by its real path), in path order.

    Symlinked folders are followed, so runs linked into one folder from several places are all read; each real
    folder is entered once, so a link back up the tree cannot loop (a symlink loop or a dangling link is no folder).
    """
    found: set[Path] = set()
    for root in map(Path, roots):
        if not root.exists():
            raise UserError(f"{root} does not exist; pass a sweep folder such as outputs/multirun/<sweep>")
        entered: set[str] = set()
        for folder, subfolders, files in os.walk(root, followlinks=True):
            real = os.path.realpath(folder)
            if real in entered:
                subfolders.clear()
                continue
            entered.add(real)
            if {RunFolder.SUMMARY, RunFolder.METRICS} & set(files):
                found.add(Path(real))
    return sorted(found)


def read_run(folder: Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """One run's files: its constant columns (status, labels, config) and its per-round records."""
    files = RunFolder(folder)
    status = str(summary.get("status", UNFINISHED))
    config = read_config(files.config, required=status == FINISHED)
    constants = {
        "run": str(folder),
        "status": status,
        "reason": summary.get("reason"),
        "allow_changed_inputs": bool(summary.get("allow_changed_inputs", False)),
        "inputs_changed": bool(summary.get("allow_changed_inputs", False) or summary.get(stale.KEY)),
        **run_labels(folder, summary, config),
        **config,
    }
    timings = {t["round"]: t for t in read_jsonl(files.timings, FIX)}
    rounds = [{**timings.get(m.get("round"), {}), **m} for m in read_jsonl(files.metrics, FIX)]
    return {"constants": constants, "rounds": rounds or [{}]}


def read_config(path: Path, required: bool) -> dict[str, Any]:
    """The flattened result-defining keys of a ``config.yaml`` (run-only keys of older folders dropped, keys added
    since filled in at their old value: :func:`benchmark.spec.completed`); a run that stopped before writing one has
    none."""
    if not path.exists():
        if not required:
            return {}
        raise UserError(f"{path} is missing, so the finished run there cannot be compared: {FIX}")
    try:
        tree = yaml.safe_load(read_text(path, FIX)) or {}
    except yaml.YAMLError as err:
        raise damaged(path, f"not YAML: {err}", FIX) from err
    if not isinstance(tree, dict):
        raise damaged(path, "not a mapping", FIX)
    return completed(tree)


def run_labels(folder: Path, summary: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str]:
    """``summary["labels"]``; for older summaries (labels at the top level, no preset) or none at all, what is
    missing comes from the config values and Hydra's recorded choices, as a new run would name it."""
    given = summary.get("labels")
    if not isinstance(given, Mapping):
        given = {key: summary[key] for key in LABELS if key in summary}
    if all(key in given for key in LABELS):
        return {key: str(given[key]) for key in LABELS}
    derived = derived_labels(folder, config)
    return {key: str(given.get(key) or derived.get(key, "unknown")) for key in LABELS}


def derived_labels(folder: Path, config: Mapping[str, Any]) -> dict[str, str]:
    from omegaconf import OmegaConf

    nested: dict[str, Any] = {}
    for key, value in config.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    try:
        return make_labels(OmegaConf.create(nested), hydra_choices(folder)).as_dict()
    except (KeyError, AttributeError, ValueError):  # a config missing the keys a label is made from
        return {}


def hydra_choices(folder: Path) -> dict[str, str]:
    """The group choices Hydra recorded in ``.hydra/hydra.yaml`` (``selector`` -> ``dopt``), if any."""
    path = RunFolder(folder).hydra_record
    if not path.exists():
        return {}
    try:
        choices = (yaml.safe_load(path.read_text()) or {})["hydra"]["runtime"]["choices"]
    except (yaml.YAMLError, KeyError, TypeError):
        return {}
    return {str(k): str(v) for k, v in (choices or {}).items() if v is not None}


def name_settings(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Set each run's ``setting`` from what differs between the runs read; returns the settings in natural order
    (``b125`` before ``b1000``)."""
    constants = [run["constants"] for run in runs]
    cells = [tuple(sorted(cell_config(config_part(c)).items())) for c in constants]
    by_cell = dict(zip(cells, constants, strict=True))  # one representative run per cell
    follow_cell = [label for label in SETTING_LABELS
                   if all(by_cell[cell][label] == c[label] for cell, c in zip(cells, constants, strict=True))]
    cell_keys = sorted({key for cell in by_cell for key, _ in cell})
    setting_keys = naming_keys(list(by_cell.values()), [*follow_cell, *cell_keys])
    order: dict[tuple[Any, ...], str] = {}
    for c in constants:
        c["setting"] = describe(c, setting_keys) or ALL_RUNS
        order[natural_key(c.get(k) for k in setting_keys)] = c["setting"]
    return [order[key] for key in sorted(order)]


def name_lines(runs: Sequence[dict[str, Any]], by: Sequence[str] = BY_SELECTOR) -> None:
    """Set each run's ``line``: the curve its seeds are averaged into.

    ``by=("selector",)`` (the default): the selector's name, plus those of its own parameters that take several
    values among its runs, apart from any that follows the seed (a ``seed: ${seed}`` parameter would otherwise
    split every line into single seeds). So ``dopt``, and ``small_margin, margin=0.3`` next to
    ``small_margin, margin=0.5``. Any other ``by`` names the line by exactly those keys (labels or dotted config
    keys); one that no run has is a UserError listing those available.
    """
    constants = [run["constants"] for run in runs]
    if tuple(by) != BY_SELECTOR:
        known = sorted({k for c in constants for k in c if k in LABELS or "." in k})
        unknown = [key for key in by if key not in known]
        if unknown:
            raise UserError(f"--by {','.join(unknown)}: no run has this key; keys: {', '.join(known)}")
        for c in constants:
            c["line"] = describe(c, by)
        return
    for selector in {c["selector"] for c in constants}:
        own = [c for c in constants if c["selector"] == selector]
        parameters = sorted({k for c in own for k in c if k.startswith("selector.")})
        variant_keys = [k for k in naming_keys(own, ["seed", *parameters]) if k != "seed"]
        for c in own:
            c["line"] = ", ".join(filter(None, [selector, describe(c, variant_keys)]))


def config_part(constants: Mapping[str, Any]) -> dict[str, Any]:
    """The result-defining keys among a run's constant columns (they are the dotted ones, and ``seed``)."""
    return {k: v for k, v in constants.items() if k not in IDENTITY or k == "seed"}


def naming_keys(rows: Sequence[Mapping[str, Any]], candidates: Sequence[str]) -> list[str]:
    """The varying ``candidates``, in order, that are needed to tell the rows apart.

    A key is dropped when the keys already kept determine its value (``model.dim`` follows the ``model``
    label), so names stay short.
    """
    kept: list[str] = []
    for key in candidates:
        if len({row.get(key) for row in rows}) < 2:
            continue
        seen: dict[tuple[Any, ...], Any] = {}
        if any(seen.setdefault(tuple(row.get(k) for k in kept), row.get(key)) != row.get(key) for row in rows):
            kept.append(key)
    return kept


def describe(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    """'gemma2b, b125' for labels; 'beta=0.3' for other keys (the full dotted name where the last part is
    shared by two of ``keys``)."""
    leaves = [key.rsplit(".", 1)[-1] for key in keys]
    parts = []
    for key, leaf in zip(keys, leaves, strict=True):
        if key in LABELS:
            parts.append(str(row[key]))
        else:
            parts.append(f"{leaf if leaves.count(leaf) == 1 else key}={row.get(key)}")
    return ", ".join(parts)


def natural_key(values: Iterable[Any]) -> tuple[Any, ...]:
    """Sort 'b125' before 'b1000', 0.3 before 3, and None first."""
    key: list[Any] = []
    for value in values:
        if value is None:
            key.append(((-1, 0.0, ""),))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            key.append(((0, float(value), ""),))
        else:
            parts = re.split(r"(\d+(?:\.\d+)?)", str(value))
            key.append(tuple((0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts) if p))
    return tuple(key)


def tidy_frame(runs: Sequence[dict[str, Any]], settings: list[str]) -> pd.DataFrame:
    """The rows of every run, identity columns first, then rounds, metrics and timings, then config keys."""
    records = [{**run["constants"], **record} for run in runs for record in run["rounds"]]
    frame = pd.DataFrame.from_records(records)
    config_keys = sorted({k for run in runs for k in config_part(run["constants"])} - {"seed"})
    measured = sorted({k for run in runs for r in run["rounds"] for k in r} - {"round", "n_labels"})
    leading = [c for c in (*IDENTITY, "round", "n_labels") if c in frame]
    for column in [c for c in ("round", "n_labels") if c in frame] + measured:
        frame[column] = pd.to_numeric(frame[column])  # null -> NaN; a non-number is a damaged file, and raises
    frame["setting"] = pd.Categorical(frame["setting"], categories=settings, ordered=True)
    return frame[[*leading, *measured, *config_keys]]
