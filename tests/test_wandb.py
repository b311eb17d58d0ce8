"""W&B: run identity, exit codes, summary agreement with summary.json, bounded online start, failures as warnings."""

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import wandb

from benchmark import checkpoint, loggers
from benchmark.errors import UserError
from benchmark.loggers import MARKER_NAME, NullLogger, WandbLogger, build_logger, run_identity
from benchmark.outputs import atomic_write_json
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec
from benchmark.summary_metrics import summary_metrics
from tests.conftest import compose_config

PROVENANCE = {"git_commit": "0123456789abcdef", "git_dirty": True, "package_version": "0.1.0"}


class FakeRun:
    """Records what the logger sends to W&B; ``fail_on_log`` makes the n-th ``log`` call raise."""

    def __init__(self, fail_on_log: int | None = None, **settings: Any):
        self.settings = settings
        self.logged: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.exit_code: int | None = None
        self.fail_on_log = fail_on_log

    def define_metric(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, record: dict[str, Any]) -> None:
        if len(self.logged) == self.fail_on_log:
            raise ConnectionError("network is unreachable")
        self.logged.append(record)

    def finish(self, exit_code: int = 0) -> None:
        self.exit_code = exit_code


@pytest.fixture
def fake_runs(monkeypatch) -> list[FakeRun]:
    """Every ``wandb.init`` call returns a new FakeRun, appended here."""
    runs: list[FakeRun] = []
    monkeypatch.setattr(wandb, "init", lambda **settings: runs.append(FakeRun(**settings)) or runs[-1])
    return runs


def spec(*overrides: str) -> RunSpec:
    return RunSpec.from_config(compose_config("logger=wandb", *overrides))


def identity(run_spec: RunSpec, run_dir: Path = Path("out/seed=0"), sweep: str | None = "smoke",
             resumed: bool = False) -> dict[str, Any]:
    return run_identity(run_spec, run_dir, sweep=sweep, provenance=PROVENANCE, resumed=resumed)


def warnings_in(caplog) -> list[str]:
    """Warnings from this package (wandb's own loggers log details of their own)."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("benchmark")]


def test_names_are_unique_across_sweeps_and_groups_are_comparison_cells():
    dopt, random = spec("selector=dopt"), spec("selector=random", "seed=3")
    assert identity(dopt, sweep="a")["name"] == "a/seed=0" != identity(dopt, sweep="b")["name"] == "b/seed=0"
    assert identity(dopt, sweep=None)["name"] == "runs/seed=0"
    assert identity(dopt)["group"] == identity(random)["group"] == dopt.cell
    assert identity(dopt)["job_type"] == "dopt" and identity(random)["job_type"] == "random"
    assert identity(spec("experiment=paper"))["group"] != identity(dopt)["group"]
    assert identity(spec("experiment=paper"))["group"].startswith("paper-")
    chosen = identity(spec("logger.name=mine", "logger.group=g", "logger.notes=why", "logger.project=p"))
    assert (chosen["name"], chosen["group"], chosen["notes"], chosen["project"]) == ("mine", "g", "why", "p")


def test_tags_name_actual_values_once_plus_user_tags():
    run_spec = spec("selector=random", "seed=3", "setup=cross_prompt", "logger.tags=[ablation,random]")
    tags = identity(run_spec, resumed=True)["tags"]
    assert len(tags) == len(set(tags))
    assert set(tags) == {"quick", "synthetic", "cross_prompt", "b20", "random", "seed3", "sweep:smoke", "git:0123456",
                         "dirty", "resumed", "ablation"}
    clean = run_identity(spec(), Path("r"), sweep=None, provenance={"git_commit": None, "git_dirty": None},
                         resumed=False)["tags"]
    assert not [t for t in clean if t.startswith(("git:", "sweep:")) or t in ("dirty", "resumed")]


def test_a_tag_w_and_b_would_refuse_is_shortened_with_a_warning(caplog):
    long = "x" * 40 + "-" + "y" * 40
    with caplog.at_level("WARNING"):
        tags = identity(spec(f"logger.tags=[{long},short]"))["tags"]
    assert all(len(tag) <= 64 for tag in tags) and "short" in tags
    (shortened,) = [tag for tag in tags if tag.startswith("x" * 40)]
    assert len(shortened) == 64 and shortened != identity(spec(f"logger.tags=[{long}z]"))["tags"][-1]
    assert f"W&B tag '{long}' is longer than 64 characters" in warnings_in(caplog)[0]


def test_config_sent_is_the_result_config_plus_labels_sweep_and_provenance():
    run_spec = spec()
    config = identity(run_spec)["config"]
    assert config == {**run_spec.config, "labels": run_spec.labels.as_dict(), "sweep": "smoke",
                      "provenance": PROVENANCE}
    assert "logger" not in config  # run-only settings are not results


def test_logger_settings_compose_and_user_tags_are_used_with_or_without_plus():
    for override in ("logger.tags=[a,b]", "+logger.tags=[a,b]"):
        assert identity(spec(override))["tags"][-2:] == ["a", "b"]
    assert compose_config("logger=none").logger.mode == "disabled"
    run_spec = RunSpec.from_config(compose_config("logger=none"))
    assert isinstance(build_logger(run_spec, Path("r"), sweep=None, provenance=PROVENANCE, resumed=False), NullLogger)
    with pytest.raises(UserError, match=r"logger\.mode=onlin is not one of"):
        build_logger(spec("logger.mode=onlin"), Path("r"), sweep=None, provenance=PROVENANCE, resumed=False)


def test_init_gets_the_identity_mode_and_timeouts(fake_runs, tmp_path):
    run_spec = spec("logger.timeout=7")
    build_logger(run_spec, tmp_path, sweep="smoke", provenance=PROVENANCE, resumed=False)
    (run,) = fake_runs
    settings = run.settings.pop("settings")
    assert (settings.init_timeout, settings.finish_timeout) == (7, 7)
    assert run.settings == {**identity(run_spec, tmp_path), "mode": "offline", "dir": str(tmp_path)}


@pytest.mark.parametrize("exit_code", [0, 1])
def test_finish_passes_the_exit_code_and_the_summary_matches_summary_json(fake_runs, tmp_path, exit_code):
    records = [{"n_labels": 20 * (i + 1), "spearman": s, "one_minus_spearman": 1 - s, "bon/50": b}
               for i, (s, b) in enumerate([(0.2, 1.0), (0.5, 2.0), (0.6, float("nan"))])]
    summary = {"status": "finished" if exit_code == 0 else "failed", "rounds": 2,
               **summary_metrics(records, "bon/50", None), "seconds": {"wall": 1.5}, "packages": {"torch": "2.0"},
               "bon_n": [5, 50]}
    atomic_write_json(tmp_path / "summary.json", summary)  # NaN becomes null there, as in every run folder
    logger = build_logger(spec(), tmp_path, sweep=None, provenance=PROVENANCE, resumed=False)
    logger.finish(summary, exit_code=exit_code)
    (run,) = fake_runs
    assert run.exit_code == exit_code
    local = json.loads((tmp_path / "summary.json").read_text())
    flat_local = {k: v for k, v in local.items() if isinstance(v, int | float | str)}
    flat_local |= {"seconds/wall": 1.5, "packages/torch": "2.0"}
    assert run.summary == flat_local
    assert "final/one_minus_spearman" in run.summary and "auc/bon/50" not in run.summary  # NaN: null, not sent


@pytest.mark.parametrize(
    ("fail", "message"),
    [("init", "W&B init failed (OSError: wandb dir is not writable)"), ("log", "W&B log failed (ConnectionError")],
)
def test_a_wandb_failure_is_one_warning_and_the_rest_is_skipped(monkeypatch, tmp_path, caplog, fail, message):
    runs: list[FakeRun] = []

    def init(**settings: Any) -> FakeRun:
        if fail == "init":
            raise OSError("wandb dir is not writable")
        runs.append(FakeRun(fail_on_log=1, **settings))
        return runs[-1]

    monkeypatch.setattr(wandb, "init", init)
    with caplog.at_level(logging.WARNING):
        logger = build_logger(spec(), tmp_path, sweep=None, provenance=PROVENANCE, resumed=False)
        for round_index in range(3):
            logger.log_round({"round": round_index, "n_labels": round_index})
        logger.finish({"status": "finished"}, exit_code=0)
    warnings = warnings_in(caplog)
    assert len(warnings) == 1 and warnings[0].startswith(message), warnings
    assert [r.exit_code for r in runs] == [None] * len(runs)  # a broken run is left alone, not finished


def test_earlier_offline_runs_are_superseded_so_sync_uploads_one_curve(fake_runs, tmp_path):
    stub = tmp_path / "wandb" / "offline-run-20250101_000000-first"
    stub.mkdir(parents=True)
    build_logger(spec(), tmp_path, sweep=None, provenance=PROVENANCE, resumed=True)
    assert not stub.exists() and (tmp_path / "wandb" / "superseded" / stub.name).is_dir()
    assert "resumed" in fake_runs[0].settings["tags"]


def test_unreachable_server_costs_one_timeout_then_the_marker_skips_online(monkeypatch, tmp_path, caplog):
    """Real wandb, online against a closed port: bounded by logger.timeout, then offline; the next run skips."""
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    cache = tmp_path / "cache"
    online = spec("logger.mode=online", "logger.timeout=2", f"cache_dir={cache}")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        first = build_logger(online, tmp_path / "first", sweep=None, provenance=PROVENANCE, resumed=False)
    waited = time.monotonic() - started
    assert waited < 10, waited  # wandb's own default would wait 90 s
    (warning,) = warnings_in(caplog)
    assert "online start failed" in warning and "offline instead" in warning
    assert isinstance(first, WandbLogger) and first.run is not None  # the offline fallback run
    first.log_round({"n_labels": 1, "spearman": 0.5})
    first.finish({"status": "finished"}, exit_code=0)
    assert list((tmp_path / "first" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert json.loads((cache / MARKER_NAME).read_text())["time"] <= time.time()

    modes: list[str] = []
    monkeypatch.setattr(wandb, "init", lambda **settings: modes.append(settings["mode"]) or FakeRun())
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        build_logger(online, tmp_path / "second", sweep=None, provenance=PROVENANCE, resumed=False)
    (warning,) = warnings_in(caplog)
    assert modes == ["offline"] and "unreachable" in warning and str(cache / MARKER_NAME) in warning

    stale = time.time() - loggers.OFFLINE_AFTER_FAILURE_MINUTES * 60 - 1
    atomic_write_json(cache / MARKER_NAME, {"time": stale})
    build_logger(online, tmp_path / "third", sweep=None, provenance=PROVENANCE, resumed=False)
    assert modes == ["offline", "online"]  # an old marker no longer stops online runs


def test_a_crashed_run_ends_failed_and_its_resumption_replays_one_whole_curve(fake_runs, run_dir, monkeypatch):
    """End to end through the runner: exit code 1 on a crash, then a new W&B run with every round."""
    save = checkpoint.save

    def crash_at_round_2(folder, round_index, model):
        if round_index == 2:
            raise RuntimeError("killed")
        save(folder, round_index, model)

    monkeypatch.setattr(checkpoint, "save", crash_at_round_2)
    cfg = compose_config("logger=wandb")
    with pytest.raises(RuntimeError):
        run_experiment(cfg, run_dir, sweep="smoke")
    monkeypatch.setattr(checkpoint, "save", save)
    run_experiment(cfg, run_dir, sweep="smoke")
    crashed, resumed = fake_runs
    assert [r["round"] for r in crashed.logged] == [0, 1] and crashed.exit_code == 1
    assert crashed.summary["status"] == "failed"
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    timings = [json.loads(line) for line in (run_dir / "timings.jsonl").read_text().splitlines()]
    assert resumed.logged == [{**m, **t} for m, t in zip(metrics, timings, strict=True)]
    assert resumed.exit_code == 0 and {"resumed", "sweep:smoke"} <= set(resumed.settings["tags"])
    local = json.loads((run_dir / "summary.json").read_text())
    flat_local = {k: v for k, v in local.items() if isinstance(v, int | float | str)}
    assert flat_local["status"] == "finished" and "auc/one_minus_spearman" in flat_local
    assert flat_local.items() <= resumed.summary.items()
