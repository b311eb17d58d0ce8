"""W&B is an extra: its failures become one warning, and a resumed run gets one whole curve."""

import json
import logging
from typing import Any

import pytest
import wandb

from benchmark import checkpoint
from benchmark.runner import run_experiment


class FakeRun:
    """Records what the runner sends to W&B; ``fail_on_log`` makes the n-th ``log`` call raise."""

    def __init__(self, fail_on_log: int | None = None, **settings: Any):
        self.settings = settings
        self.logged: list[dict[str, Any]] = []
        self.summary: dict[str, Any] = {}
        self.finished = False
        self.fail_on_log = fail_on_log

    def define_metric(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log(self, record: dict[str, Any]) -> None:
        if len(self.logged) == self.fail_on_log:
            raise ConnectionError("network is unreachable")
        self.logged.append(record)

    def finish(self) -> None:
        self.finished = True


def broken_init(**settings: Any) -> FakeRun:
    raise OSError("wandb dir is not writable")


@pytest.mark.parametrize(
    ("init", "message"),
    [(broken_init, "W&B init failed (OSError: wandb dir is not writable)"),
     (lambda **settings: FakeRun(fail_on_log=1, **settings), "W&B log failed (ConnectionError")],
    ids=["init", "log"],
)
def test_wandb_failure_is_one_warning_and_local_outputs_are_complete(
    make_config, run_dir, monkeypatch, caplog, init, message
):
    monkeypatch.setattr(wandb, "init", init)
    with caplog.at_level(logging.WARNING):
        summary = run_experiment(make_config("logger=wandb"), run_dir)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(message), warnings
    assert summary["status"] == "finished"
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 3
    assert len(list((run_dir / "selections").glob("round_*.npz"))) == 3
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "finished"


def test_resumed_run_replays_earlier_rounds_into_a_new_wandb_run(make_config, run_dir, monkeypatch):
    runs: list[FakeRun] = []
    monkeypatch.setattr(wandb, "init", lambda **settings: runs.append(FakeRun(**settings)) or runs[-1])
    save = checkpoint.save

    def crash_at_round_2(folder, round_index, model):
        if round_index == 2:
            raise RuntimeError("killed")
        save(folder, round_index, model)

    monkeypatch.setattr(checkpoint, "save", crash_at_round_2)
    cfg = make_config("logger=wandb")
    with pytest.raises(RuntimeError):
        run_experiment(cfg, run_dir)
    monkeypatch.setattr(checkpoint, "save", save)
    stub = run_dir / "wandb" / "offline-run-20250101_000000-first"
    stub.mkdir(parents=True)

    run_experiment(cfg, run_dir)
    first, second = runs
    assert [r["round"] for r in first.logged] == [0, 1] and first.finished
    assert [r["round"] for r in second.logged] == [0, 1, 2]
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    timings = [json.loads(line) for line in (run_dir / "timings.jsonl").read_text().splitlines()]
    assert second.logged == [{**m, **t} for m, t in zip(metrics, timings, strict=True)]
    assert "resumed" in second.settings["tags"] and "resumed" not in first.settings["tags"]
    assert second.summary["status"] == "finished"
    assert not stub.exists() and (run_dir / "wandb" / "superseded" / stub.name).is_dir()
