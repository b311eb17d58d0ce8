"""Sweeps: Hydra finds sweeps/ from anywhere, each sweep launches the grid it declares, launchers compose and
run, a rerun of a finished sweep trains nothing, and the plots and table agree with the runs' files."""

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf
from scipy import stats

import benchmark.config
import benchmark.spec  # noqa: F401  (registers the run-name, sweep-name and absolute-path resolvers)
from benchmark.paths import CONF_DIR, SWEEPS_DIR

#: The paper's comparison: the eight selectors of its figures, in the order the figure sweeps list them.
PAPER_SELECTORS = ["random", "entropy", "maxdiff", "bald", "batchbald", "coreset", "dopt", "pastaware_dopt"]
SWEEPS = sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml"))
SKIP_MESSAGE = "already holds this finished run"


def compose_sweep(name: str, *overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=[f"+sweep={name}", "output_root=/out", *overrides],
                       return_hydra_config=True)


def sweep_jobs(cfg: DictConfig) -> list[list[str]]:
    """The per-job overrides Hydra's basic sweeper makes from ``hydra.sweeper.params`` (its own code path)."""
    params = [f"{key}={value}" for key, value in cfg.hydra.sweeper.params.items()]
    return BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(params), None)[0]


def declared_sizes(name: str) -> list[int]:
    """How many values each swept key lists in the sweep file, read as plain YAML (not through Hydra)."""
    params = yaml.safe_load((SWEEPS_DIR / f"{name}.yaml").read_text())["hydra"]["sweeper"]["params"]
    sizes = []
    for value in map(str, params.values()):
        ranged = re.fullmatch(r"range\((\d+)\)", value)
        sizes.append(int(ranged[1]) if ranged else len(value.split(",")))
    return sizes


def test_sweep_group_points_at_the_sweeps_folder():
    assert (CONF_DIR / "sweep").resolve() == Path(__file__).resolve().parents[1] / "sweeps"
    assert SWEEPS and all((SWEEPS_DIR / f"{name}.yaml").is_file() for name in SWEEPS)


@pytest.mark.parametrize("name", SWEEPS)
def test_each_sweep_launches_its_grid_into_its_own_folder(name):
    cfg = compose_sweep(name)
    grid = sweep_jobs(cfg)
    assert len(grid) == math.prod(declared_sizes(name))
    for override in {o for job in grid for o in job}:  # a typo'd option would only fail when its job starts
        key, value = override.split("=", 1)
        assert not (CONF_DIR / key).is_dir() or (CONF_DIR / key / f"{value}.yaml").exists(), override
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert cfg.hydra.sweep.dir == f"/out/multirun/{name}"


def test_paper_sweeps_cover_selectors_models_and_seeds():
    for name in ("fig3_in_prompt", "fig5_cross_prompt"):
        params = compose_sweep(name).hydra.sweeper.params
        assert params.selector.split(",") == PAPER_SELECTORS
        assert params.model.split(",") == ["gemma2b", "gemma7b", "llama3_8b"]
        assert params.seed == "range(5)"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fig3_in_prompt", {"dataset.task": "Harmless", "setup.pairing": "in_prompt", "reward_model.width": 512}),
        ("fig5_cross_prompt", {"dataset.task": "Harmless", "setup.pairing": "cross_prompt", "reward_model.width": 512}),
        ("fig4_batch_size", {"model.embedder": "Gemma2b", "setup.pairing": "in_prompt", "budget": 10000,
                             "initial_labels": 125}),
    ],
)
def test_real_data_sweep_jobs_compose(name, expected):
    """The first and last jobs compose (no data files needed) with the figure's setup and their own overrides."""
    jobs = sweep_jobs(compose_sweep(name))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for job in (jobs[0], jobs[-1]):
            cfg = compose("config", overrides=[f"+sweep={name}", *job], return_hydra_config=True)
            for key, value in expected.items():
                chosen = OmegaConf.select(cfg, key)
                assert getattr(chosen, "value", chosen) == value, (job, key)
            for override in job:
                key, value = override.split("=")
                chosen = cfg.hydra.runtime.choices[key] if (CONF_DIR / key).is_dir() else OmegaConf.select(cfg, key)
                assert str(chosen) == value, job
            assert cfg.budget % cfg.batch.size == 0


def test_slurm_launcher_config_composes():
    cfg = compose_sweep("fig3_in_prompt", "hydra/launcher=slurm", "hydra.launcher.partition=gpu",
                        "hydra.launcher.timeout_min=30")
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert (launcher.partition, launcher.gpus_per_node, launcher.timeout_min) == ("gpu", 1, 30)


def test_joblib_launcher_and_thread_cap_compose():
    cfg = compose_sweep("synthetic_grid", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "torch_threads=1")
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2
    assert cfg.torch_threads == 1


def cli(*args: str, env: dict[str, str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "benchmark", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def cli_env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "ARM_BENCH_CACHE": str(tmp / "cache"), "WANDB_MODE": "offline"}


@pytest.fixture(scope="session")
def smoke_sweep(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The smoke sweep, run once per test session through the real CLI (shared by pytest-xdist workers)."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "smoke_sweep"
    from filelock import FileLock

    with FileLock(str(root) + ".lock"):
        if not (root / "done").exists():
            root.mkdir(exist_ok=True)
            cli("-m", "+sweep=smoke", f"output_root={root / 'out'}", "logger=none", env=cli_env(root), cwd=root)
            (root / "done").touch()
    return root


def run_folders(sweep_dir: Path) -> list[Path]:
    return sorted(p.parent for p in sweep_dir.glob("*/summary.json"))


def test_smoke_sweep_runs_every_selector_and_seed_in_named_folders(smoke_sweep):
    folders = run_folders(smoke_sweep / "out" / "multirun" / "smoke")
    selectors = compose_sweep("smoke").hydra.sweeper.params.selector.split(",")
    assert [f.name for f in folders] == sorted(f"seed={s},selector={n}" for s in (0, 1) for n in selectors)
    for folder in folders:
        assert json.loads((folder / "summary.json").read_text())["status"] == "finished"


def test_rerunning_a_finished_sweep_trains_nothing(smoke_sweep):
    folders = run_folders(smoke_sweep / "out" / "multirun" / "smoke")
    before = {f: [(f / n).stat().st_mtime_ns for n in ("metrics.jsonl", "timings.jsonl", "summary.json")]
              for f in folders}
    done = cli("-m", "+sweep=smoke", f"output_root={smoke_sweep / 'out'}", "logger=none", env=cli_env(smoke_sweep),
               cwd=smoke_sweep)
    output = done.stdout + done.stderr
    assert output.count(SKIP_MESSAGE) == len(folders) == math.prod(declared_sizes("smoke"))
    assert "round 0/" not in output
    assert before == {f: [(f / n).stat().st_mtime_ns for n in ("metrics.jsonl", "timings.jsonl", "summary.json")]
                      for f in folders}


def test_two_job_sweep_through_submitit(tmp_path):
    """hydra/launcher=submitit_local runs the jobs in submitit's own processes: the SLURM code path."""
    cli("-m", "+sweep=smoke", "selector=random", "seed=0,1", "hydra/launcher=submitit_local",
        f"output_root={tmp_path / 'out'}", "logger=none", env=cli_env(tmp_path), cwd=tmp_path)
    folders = run_folders(tmp_path / "out" / "multirun" / "smoke")
    assert [f.name for f in folders] == ["seed=0,selector=random", "seed=1,selector=random"]
    assert list((tmp_path / "out" / "multirun" / "smoke" / ".submitit").iterdir())


def test_plot_and_table_agree_with_the_runs(smoke_sweep, tmp_path):
    from plots.cli import main

    sweep_dir = smoke_sweep / "out" / "multirun" / "smoke"
    main([str(sweep_dir), "--out", str(tmp_path), "--paired"])
    selectors = compose_sweep("smoke").hydra.sweeper.params.selector.split(",")
    for stem in ("curves",):
        assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
    rows = {row["selector"]: row for row in csv.DictReader((tmp_path / "summary.csv").open())}
    assert sorted(rows) == sorted(selectors)
    runs = {(f.name.split("selector=")[1], int(f.name.split(",")[0][5:])): f for f in run_folders(sweep_dir)}

    def last(selector: str, seed: int, key: str) -> float:
        return json.loads((runs[selector, seed] / "metrics.jsonl").read_text().splitlines()[-1])[key]

    def auc(selector: str, seed: int) -> float:
        return json.loads((runs[selector, seed] / "summary.json").read_text())["auc/one_minus_spearman"]

    for selector in selectors:
        row = rows[selector]
        finals = [last(selector, s, "one_minus_spearman") for s in (0, 1)]
        assert float(row["final_one_minus_spearman_mean"]) == pytest.approx(np.mean(finals), abs=1e-12)
        low, high = stats.t.interval(0.95, 1, loc=np.mean(finals), scale=stats.sem(finals))
        assert float(row["final_one_minus_spearman_low"]) == pytest.approx(low)
        assert float(row["final_one_minus_spearman_high"]) == pytest.approx(high)
        assert float(row["auc_one_minus_spearman_mean"]) == pytest.approx(np.mean([auc(selector, s) for s in (0, 1)]))
        assert float(row["final_bon_mean"]) == pytest.approx(np.mean([last(selector, s, "bon/20") for s in (0, 1)]))
        if selector != "random":
            deltas = [auc(selector, s) - auc("random", s) for s in (0, 1)]
            assert float(row["delta_auc_one_minus_spearman_mean"]) == pytest.approx(np.mean(deltas))
    ranked = sorted(selectors, key=lambda s: float(rows[s]["auc_one_minus_spearman_mean"]))
    assert [int(rows[s]["rank"]) for s in ranked] == list(range(1, len(selectors) + 1))
    markdown = (tmp_path / "summary.md").read_text()
    assert all(f"| {selector} |" in markdown for selector in selectors)


def test_adhoc_multirun_gets_its_own_folder(monkeypatch):
    cfg = compose_sweep("smoke")
    monkeypatch.setenv("ARM_BENCH_SWEEP_NAME", "adhoc-seed-0123abcd")  # what the sweep callback sets
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        plain = compose("config", overrides=["output_root=/out"], return_hydra_config=True)
    assert plain.hydra.sweep.dir == "/out/multirun/adhoc-seed-0123abcd" != cfg.hydra.sweep.dir
