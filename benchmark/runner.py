"""Runs one experiment into its folder: one writer, resume only onto the same inputs, a summary whatever happens.

The order matters. Everything that needs only the config is checked (the spec), then the selector is built
and its contract checked, then the data is loaded and checked, then the folder is locked, and only then is
anything written. A run that stops early records why (``summary.json``: ``failed`` or ``interrupted``) and
keeps its finished rounds; the next attempt continues from the last complete round.
"""

import inspect
import json
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import yaml
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from benchmark import checkpoint, provenance, stale
from benchmark.choices import warn_shadowed
from benchmark.config import instantiate_checked
from benchmark.data import PreferenceData
from benchmark.data.splits import load_split_data
from benchmark.errors import Interrupted, UserError
from benchmark.lock import LockLost, RunLock
from benchmark.loggers import build_logger
from benchmark.loop import ActiveLearning, check_against_data
from benchmark.memory import check_memory
from benchmark.metrics import SPEARMAN
from benchmark.outputs import RunFolder, atomic_write_json, atomic_write_text, format_round_table, read_text
from benchmark.paths import CONF_DIR
from benchmark.pools import is_implicit
from benchmark.reward_model import resolve_device
from benchmark.selectors.base import Selector
from benchmark.selectors.posterior import build_posterior
from benchmark.spec import RunSpec, differing_keys, same_run
from benchmark.summary_metrics import summary_metrics
from benchmark.threads import apply_threads
from benchmark.toy_grid import save_toy_grid
from benchmark.watch import RunWatch

log = logging.getLogger(__name__)



@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Interrupted` while a run is going (main thread only: signals are delivered there).

    Once: a second SIGTERM (a launcher that passes the signal on, as submitit's does) must not break off the run
    while it records its interruption. Nested uses keep the outer handler.
    """
    import threading

    if threading.current_thread() is not threading.main_thread() or hasattr(signal.getsignal(signal.SIGTERM), "fired"):
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        if not interrupt.fired:  # type: ignore[attr-defined]
            interrupt.fired = True  # type: ignore[attr-defined]
            raise Interrupted(f"signal {signal.Signals(signum).name}")

    interrupt.fired = False  # type: ignore[attr-defined]

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def shared_parts(spec: RunSpec) -> dict[str, Any]:
    """What the run hands to a selector whose class asks for it: the ``posterior`` group's object."""
    target = spec.selector.get("_target_")
    try:
        wants = "posterior" in inspect.signature(get_object(str(target))).parameters
    except Exception:  # not importable: instantiate_checked says so in one line
        return {}
    return {"posterior": build_posterior(spec.posterior)} if wants else {}


def build_selector(spec: RunSpec) -> Selector:
    """The selector, built and checked against the contract before any data is loaded or round trained."""
    target = spec.selector.get("_target_")
    selector = instantiate_checked(spec.selector, "selector", **shared_parts(spec))
    select = getattr(selector, "select", None)
    if not callable(select):
        raise UserError(f"selector._target_={target} has no select(context, n) method; subclass "
                        "benchmark.selectors.Selector and implement select")
    if not hasattr(selector, "allows_repeats"):
        raise UserError(f"selector._target_={target} does not subclass benchmark.selectors.Selector; subclass it "
                        "(it declares allows_repeats and the select(context, n) contract)")
    return selector


def refuse_implicit_pool_unless_served(spec: RunSpec, data: PreferenceData, selector: Selector) -> None:
    """Before round 0 trains: a selector that needs listed pairs cannot run on rounds whose pool is implicit."""
    space = spec.pairing.space_size(spec.prompts_per_round, data.responses_per_prompt)
    if is_implicit(space, spec.pairing, spec.cap) and not selector.implicit_pool:
        raise UserError(
            f"selector {spec.labels.selector} ({type(selector).__name__}) needs listed candidate pairs, but "
            f"candidates_per_round=null makes each round's pool all {space:,} cross-prompt pairs, never listed; set "
            f"candidates_per_round to a number (e.g. 22500), or use a selector that serves it ({', '.join(serving())})"
        )


def serving() -> list[str]:
    """The shipped selector configs whose class serves the implicit pool (its ``implicit_pool`` flag)."""
    names = []
    for path in sorted((CONF_DIR / "selector").glob("*.yaml")):
        target = OmegaConf.load(path).get("_target_")
        if target and getattr(get_object(str(target)), "implicit_pool", False):
            names.append(path.stem)
    return names


def refuse_other_config(folder: RunFolder, spec: RunSpec, previous: dict[str, Any] | None) -> None:
    """Results of another config are never replaced or mixed with new ones without overwrite=true."""
    finished = previous is not None and previous.get("status") == "finished"
    if not (finished or folder.checkpoint.exists()):
        return
    text = read_text(folder.config, "pass overwrite=true to start this run again") if folder.config.exists() else ""
    if same_run(text, spec.config):
        return
    try:
        saved = yaml.safe_load(text) or {}
        keys = differing_keys(saved, spec.config) if isinstance(saved, dict) else []
    except yaml.YAMLError:
        keys = []
    what = f"differs in {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}" if keys else "has no readable config"
    raise UserError(
        f"{folder.root} holds {'a finished' if finished else 'an unfinished'} run whose config {what}; pass "
        "overwrite=true to replace it, or set output_root to another folder"
    )


def holds_this_finished_run(folder: RunFolder, spec: RunSpec) -> bool:
    """A quick look before locking (the locked code decides): does ``folder`` hold this run, finished?"""
    try:
        summary = folder.read_summary()
        finished = summary is not None and summary.get("status") == "finished"
        return finished and same_run(folder.config.read_text(), spec.config)
    except (OSError, UserError):
        return False


def changed_inputs(folder: RunFolder, current: dict[str, Any]) -> list[str]:
    """What differs between the inputs recorded at the run's round 0 and ``current`` (nothing if none recorded)."""
    path = folder.inputs
    if not path.exists():
        return []
    try:
        recorded = json.loads(read_text(path, "pass overwrite=true to start this run again"))
    except ValueError as err:
        raise UserError(f"{path} is damaged ({err}); pass overwrite=true to start this run again") from err
    return provenance.fingerprint_changes(recorded, current)


def run_experiment(
    cfg: DictConfig, run_dir: Path, *, sweep: str | None = None, in_sweep: bool = False
) -> dict[str, Any]:
    """Run one experiment into ``run_dir``, continuing after its last complete round; returns its summary.

    A finished run is skipped unless ``overwrite``. ``in_sweep``: a folder locked by another job waits for it
    (then is treated as any rerun would be) instead of failing at once.
    """
    warn_shadowed(cfg)
    spec = RunSpec.from_config(cfg)
    selector = build_selector(spec)
    data = load_split_data(spec.dataset, spec.eval, spec.seed)
    check_against_data(spec, data)
    refuse_implicit_pool_unless_served(spec, data, selector)
    folder = RunFolder(run_dir)
    if folder.read_only:
        return finished_in_read_only_folder(spec, data, folder)
    if spec.options.overwrite or not holds_this_finished_run(folder, spec):  # a run to skip needs no memory
        check_memory(spec, data, resolve_device(spec.reward_model.device))
    lock = RunLock(folder.root)
    lock.acquire(wait=in_sweep)
    try:
        with sigterm_as_interrupt():
            return _run_locked(spec, selector, data, folder, sweep)
    finally:
        lock.release()


def _run_locked(
    spec: RunSpec, selector: Selector, data: PreferenceData, folder: RunFolder, sweep: str | None
) -> dict[str, Any]:
    options = spec.options
    watch = RunWatch(data.files, folder.root)
    inputs = run_inputs(spec, data)
    if not options.overwrite:
        previous = finished_summary(folder, spec, inputs)
        if previous is not None:
            return previous
    apply_threads(options.torch_threads, spec, data)
    loop = ActiveLearning(spec, data, selector)
    state, changed = start_or_resume(folder, spec, loop, inputs)
    records = list(state.records) if state else []
    timings = list(state.timings) if state else []
    atomic_write_text(folder.config, spec.yaml)
    record_of_inputs = {"git_commit": (inputs.get("git") or {}).get("commit"),
                        "git_dirty": (inputs.get("git") or {}).get("dirty"),
                        "package_version": inputs.get("version"), "source": inputs.get("source")}
    logger = build_logger(spec, folder.root, sweep=sweep, provenance=record_of_inputs, resumed=state is not None)
    for record, timing in zip(records, timings, strict=True):
        logger.log_round({**record, **timing})
    started = time.time()
    bon_key = loop.evaluator.bon_key
    base = {"labels": spec.labels.as_dict(), "sweep": sweep, "inputs": record_of_inputs,
            "allow_changed_inputs": bool(changed), "changed_inputs": changed}
    log.info("run %s: %s, %d rounds of %d pairs -> %s", spec.labels.selector, spec.labels.setup, spec.rounds,
             spec.batch_size, folder.root)
    try:
        run_rounds(loop, folder, logger, records, timings, watch)
        watch.check()
    except BaseException as err:
        if isinstance(err, LockLost):  # the folder is another process's now: write nothing more into it
            raise
        stopped = {**base, **stop_record(err, records), **summary_metrics(records, bon_key, None)}
        atomic_write_json(folder.summary, stopped)
        logger.finish(stopped, exit_code=1)
        raise
    save_toy_grid(folder.root, loop.model, data, loop.device, spec.dataset.get("reward"))
    summary = {**base, **summarise(records, timings, bon_key, time.time() - started)}
    summary["data_checksums"] = inputs.get("data_files")
    summary["resumed_after_round"] = state.last_round if state else None
    atomic_write_json(folder.summary, summary)
    folder.checkpoint.unlink(missing_ok=True)
    logger.finish(summary, exit_code=0)
    print(format_round_table(records, timings, bon_key))
    print(f"outputs: {folder.root.resolve()}")
    return summary


def run_inputs(spec: RunSpec, data: PreferenceData) -> dict[str, Any]:
    """What the run's results depend on besides its config (``inputs.json``): data files or generator, code."""
    generator = None if data.files else dict(spec.config["dataset"])
    return provenance.input_fingerprint(list(data.files) or None, generator, spec.options.cache_dir, spec.config)


def finished_in_read_only_folder(spec: RunSpec, data: PreferenceData, folder: RunFolder) -> dict[str, Any]:
    """The summary of this run, finished, from a folder this process cannot write into; any other run there is
    refused in one line, since it would write. No lock is taken: this process writes nothing there."""
    previous = None if spec.options.overwrite else finished_summary(folder, spec, run_inputs(spec, data))
    if previous is None:
        need = "overwrite=true" if spec.options.overwrite else "a run that has not finished there"
        raise UserError(f"{folder.root} is read-only, and {need} would write into it; make the folder writable, or "
                        "set output_root to another folder")
    return previous


def finished_summary(folder: RunFolder, spec: RunSpec, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The summary of this very run when the folder holds it finished (then it is skipped), else None.

    Results of another config are refused first (:func:`refuse_other_config`).
    """
    previous = folder.read_summary()
    refuse_other_config(folder, spec, previous)
    if previous is None or previous.get("status") != "finished":
        return None
    with suppress(OSError):  # a kill between summary and clean-up left it (a read-only folder keeps it)
        folder.checkpoint.unlink(missing_ok=True)
    return stale.returned_finished(folder, previous, changed_inputs(folder, inputs))


def start_or_resume(
    folder: RunFolder, spec: RunSpec, loop: ActiveLearning, inputs: dict[str, Any]
) -> tuple[checkpoint.ResumeState | None, list[str]]:
    """A new run records its inputs; a resumed one is restored, on the same inputs unless allowed otherwise.

    Returns the checkpoint state (None for a new run) and what changed in the inputs.
    """
    options = spec.options
    state = None if options.overwrite else checkpoint.load(folder, loop.device)
    if state is None:  # a new run, or one that never completed a round: it starts on today's inputs
        checkpoint.clear(folder)
        atomic_write_json(folder.inputs, {**inputs, "labels": spec.labels.as_dict()})
        return None, []
    changed = changed_inputs(folder, inputs)
    if changed and not options.allow_changed_inputs:
        raise UserError(
            f"{folder.root} was started on other inputs ({'; '.join(changed)}); pass overwrite=true to start "
            "it again, or allow_changed_inputs=true to continue deliberately (recorded in its summary and plots)"
        )
    loop.restore(state.pairs, state.labels, state.model)
    folder.summary.unlink(missing_ok=True)
    log.info("resuming %s after round %d, its last complete round", folder.root, state.last_round)
    return state, changed


def run_rounds(loop: ActiveLearning, folder: RunFolder, logger: Any, records: list[dict[str, Any]],
               timings: list[dict[str, Any]], watch: Any) -> None:
    """The rounds after the last complete one, each written, checkpointed and logged before the next starts."""
    spec, bon_key = loop.spec, loop.evaluator.bon_key
    for round_index in range(len(records), spec.rounds + 1):
        result = loop.run_round(round_index)
        watch.check()  # before the round is committed: nothing is recorded on data the run did not start with
        record, timing = result.record, result.timings
        folder.save_selection(round_index, result.pairs, result.labels)
        folder.append_records(folder.metrics, [record])
        folder.append_records(folder.timings, [timing])
        checkpoint.save(folder, round_index, loop.model)
        logger.log_round({**record, **timing})
        records.append(record)
        timings.append(timing)
        log.info(
            "round %d/%d  n_labels=%d  spearman=%.4f  %s=%.4f  select %.2fs  train %.2fs",
            round_index, spec.rounds, record["n_labels"], record[SPEARMAN], bon_key, record[bon_key],
            timing["selection_seconds"], timing["train_seconds"],
        )


def stop_record(err: BaseException, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Why a run stopped early (``interrupted`` or ``failed``) and where, for its summary."""
    interrupted = isinstance(err, KeyboardInterrupt)
    if isinstance(err, UserError):
        err.args = (f"round {len(records)}: {err}",)
    reason = str(err) if isinstance(err, UserError) else f"{type(err).__name__}: {err}"
    return {"status": "interrupted" if interrupted else "failed", "reason": reason.splitlines()[0],
            "failed_round": len(records), "rounds_completed": len(records)}


def summarise(records: list[dict[str, Any]], timings: list[dict[str, Any]], bon_key: str,
              wall_seconds: float) -> dict[str, Any]:
    return {
        "status": "finished",
        "rounds": len(records) - 1,
        "final": records[-1],
        **summary_metrics(records, bon_key, None),
        "seconds": {
            "wall": wall_seconds,
            **{key: sum(t[key] for t in timings) for key in ("pool_seconds", "selection_seconds",
                                                           "train_seconds", "eval_seconds")},
        },
        "packages": provenance.package_versions(),
    }
