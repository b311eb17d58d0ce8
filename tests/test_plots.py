"""Plots and tables: intervals against scipy and by simulation, grouping runs into settings, paired
differences, the table's statistics, and the toy figure from real toy runs."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from benchmark.data.toy2d import bimodal
from benchmark.runner import run_experiment
from benchmark.toy_grid import FILE_NAME
from plots.cli import main
from plots.curves import Curves, choose_bon, paired_difference
from plots.intervals import t_interval
from plots.loading import Run, find_runs, group_runs
from plots.style import COLOURS, colour
from plots.tables import TO_TARGET, run_statistics, summary_rows


def test_t_interval_matches_scipy_columnwise():
    values = np.random.default_rng(0).normal(size=(5, 7))
    interval = t_interval(values)
    low, high = stats.t.interval(0.95, 4, loc=values.mean(axis=0), scale=stats.sem(values, axis=0))
    np.testing.assert_allclose(interval.low, low, rtol=1e-12)
    np.testing.assert_allclose(interval.high, high, rtol=1e-12)


def test_t_interval_by_hand_and_single_seed():
    # t_{0.975, 4} = 2.776445, s = sqrt(2.5) for 0..4: half-width 2.776445 * 1.581139 / sqrt(5) = 1.963243
    assert float(t_interval([0, 1, 2, 3, 4]).half_width) == pytest.approx(1.963243, abs=1e-6)
    single = t_interval([[0.3, 0.4]])
    assert np.isnan(single.low).all() and single.mean.tolist() == [0.3, 0.4]


def test_t_interval_covers_the_mean_95_percent_of_the_time_with_5_seeds():
    samples = np.random.default_rng(1).normal(3.0, 2.0, size=(5, 20000))
    interval = t_interval(samples)
    coverage = np.mean((interval.low <= 3.0) & (interval.high >= 3.0))
    assert 0.94 < coverage < 0.96
    # A normal (z) interval would under-cover badly with 5 seeds: the reason for Student-t.
    z_half = 1.96 * samples.std(axis=0, ddof=1) / np.sqrt(5)
    assert np.mean(np.abs(samples.mean(axis=0) - 3.0) <= z_half) < 0.9


def fake_run(selector: str, seed: int, spearman: list[float], n_labels: list[int] | None = None, **config) -> Run:
    n_labels = n_labels or [10 * (i + 1) for i in range(len(spearman))]
    metrics = [{"n_labels": n, "spearman": s, "one_minus_spearman": 1 - s, "bon/5": s, "bon/10": 2 * s}
               for n, s in zip(n_labels, spearman, strict=True)]
    timings = [{"round": i, "selection_seconds": 0.1 * i} for i in range(len(spearman))]
    flat = {"seed": seed, "selector.name": selector, "output_root": f"/somewhere/{seed}", **config}
    return Run(Path(f"/{selector}/{seed}"), flat, {"selector": selector, "rounds": len(spearman) - 1}, metrics,
               timings)


def test_settings_are_named_by_the_keys_that_vary_and_determine_the_rest():
    runs = [
        fake_run(sel, seed, [0.5, 0.6], **{"model.name": m, "model.dim": d, "dataset.dim": d, "batch.name": b,
                                           "batch.size": size})
        for sel in ("random", "dopt") for seed in (0, 1) for m, d in (("gemma7b", 3072), ("gemma2b", 2048))
        for b, size in (("b1000", 1000), ("b125", 125))
    ]
    settings = group_runs(runs)
    assert [s.label for s in settings] == ["gemma2b, b125", "gemma2b, b1000", "gemma7b, b125", "gemma7b, b1000"]
    assert all(sorted(s.lines) == ["dopt", "random"] and all(len(v) == 2 for v in s.lines.values())
               for s in settings)


def test_numeric_keys_and_selector_variants_get_readable_labels():
    runs = [fake_run("dopt", 0, [0.5], **{"reward_model.width": w, "selector.eps": e}) for w in (256, 32)
            for e in (1e-6, 1e-3)]
    settings = group_runs(runs)
    assert [s.label for s in settings] == ["width=32", "width=256"]
    assert sorted(settings[0].lines) == ["dopt, eps=0.001", "dopt, eps=1e-06"]


def test_paired_difference_uses_shared_seeds_and_points():
    line = Curves(np.array([10, 20, 30]), np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]), (0, 1, 2))
    baseline = Curves(np.array([10, 20]), np.array([[1.0, 1], [2, 2]]), (2, 1))
    diff = paired_difference(line, baseline)
    assert diff is not None and diff.seeds == (1, 2) and diff.n_labels.tolist() == [10, 20]
    np.testing.assert_array_equal(diff.values, [[2.0, 3.0], [6.0, 7.0]])


def test_table_statistics_labels_to_target_and_paired_deltas():
    run = fake_run("dopt", 0, [0.5, 0.7, 0.9])
    numbers = run_statistics(run, "bon/10", target=0.7)
    assert numbers[TO_TARGET] == 20 and numbers["selection_seconds"] == pytest.approx(0.15)
    assert np.isnan(run_statistics(run, "bon/10", target=0.95)[TO_TARGET])
    runs = [fake_run("random", s, [0.5, 0.6 + 0.01 * s]) for s in range(3)]
    runs += [fake_run("dopt", s, [0.5, 0.8 + 0.02 * s]) for s in range(3)]
    rows = {row.line: row for row in summary_rows(group_runs(runs), "bon/10")}
    assert rows["dopt"].rank == 1 and rows["random"].rank == 2
    assert rows["random"].target == pytest.approx(0.61)  # random's final mean Spearman
    assert rows["dopt"].reached == 3 and rows["random"].reached == 2
    delta = rows["dopt"].deltas["final_one_minus_spearman"]
    assert delta is not None and float(delta.mean) == pytest.approx(-0.21)
    assert rows["random"].deltas["final_one_minus_spearman"] is None


def test_bon_size_defaults_to_the_largest_shared_and_names_the_others():
    runs = [fake_run("random", 0, [0.5])]
    assert choose_bon(runs, None) == "bon/10"
    with pytest.raises(Exception, match=r"available: \[5, 10\]"):
        choose_bon(runs, 50)


def test_selector_colours_are_fixed_and_distinct():
    assert len(set(COLOURS.values())) == len(COLOURS)
    assert colour("dopt") == COLOURS["dopt"] and colour("my_selector") == colour("my_selector")


@pytest.fixture(scope="module")
def toy_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two selectors on a shortened 2D toy, as a sweep folder."""
    from tests.conftest import compose_config

    root = tmp_path_factory.mktemp("toy") / "fig1"
    for selector in ("random", "dopt"):
        cfg = compose_config("experiment=toy", "logger=none", f"selector={selector}", "reward_model.steps=30",
                             "budget=20", "prompts_per_round=10", "torch_threads=1", tiny=False)
        run_experiment(cfg, root / f"seed=0,selector={selector}")
    return root


def test_toy_run_saves_the_fitted_and_golden_reward_on_a_grid(toy_sweep):
    grid = np.load(toy_sweep / "seed=0,selector=dopt" / FILE_NAME)
    xs, ys = grid["x"], grid["y"]
    assert grid["predicted"].shape == grid["golden"].shape == (len(ys), len(xs))
    assert np.isfinite(grid["predicted"]).all() and grid["predicted"].std() > 0
    np.testing.assert_allclose(grid["golden"][3, 7], bimodal(np.array([xs[7], ys[3]])), rtol=1e-6)
    assert grid["points"].shape == (500, 2)


def test_plot_cli_draws_the_toy_figure(toy_sweep, tmp_path, capsys):
    main([str(toy_sweep), "--out", str(tmp_path)])
    for stem in ("curves", "toy"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 10_000
        assert (tmp_path / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "2 runs, 1 setting(s), 2 selector(s)" in capsys.readouterr().out


def test_synthetic_runs_save_no_toy_grid(make_config, run_dir):
    run_experiment(make_config("selector=random"), run_dir)
    assert not (run_dir / FILE_NAME).exists()


def test_unfinished_runs_are_left_out_and_no_runs_is_an_error(tmp_path, capsys):
    folder = tmp_path / "sweep" / "run"
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps({"status": "failed"}))
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "sweep")])
    assert exit_info.value.code == 2
    assert "no finished runs" in capsys.readouterr().err
    with pytest.raises(Exception, match="does not exist"):
        find_runs([tmp_path / "missing"])
