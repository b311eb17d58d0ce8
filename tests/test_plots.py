"""Plots and tables: intervals against scipy and by simulation, bands by seed count, legend order, paired
differences, the table's statistics and times, the CLI on fake run folders (tests/test_results.write_run), and
the toy figure from real toy runs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmark.data.toy2d import bimodal
from benchmark.outputs import area_under_curve
from benchmark.paths import CONF_DIR
from benchmark.runner import run_experiment
from benchmark.toy_grid import FILE_NAME
from plots.cli import main
from plots.curves import Curves, choose_bon, choose_metrics, paired_difference
from plots.figures import curves_figure, legend_label, row_major
from plots.intervals import band_interval, default_band, t_interval
from plots.loading import final_rows, read_runs
from plots.render import pyplot
from plots.style import COLOURS, colour
from plots.tables import TO_TARGET, summary_table, to_markdown
from tests.test_results import write_run


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


def fake_sweep(root: Path, seeds: int, selectors: tuple[str, ...] = ("random", "dopt"), **kwargs) -> Path:
    """Runs whose final Spearman is ordered like ``selectors`` (last best), seed noise 0.01 per seed."""
    for rank, selector in enumerate(selectors):
        for seed in range(seeds):
            write_run(root, selector, seed, [0.5, 0.6 + 0.1 * rank + 0.01 * seed], **kwargs)
    return root


def test_band_defaults_by_seed_count_and_is_named_in_the_title(tmp_path, caplog):
    expected = {1: ("none", "no band"), 2: ("se", "±1 standard error"), 4: ("se", "±1 standard error"),
                5: ("ci", "95% Student-t interval")}
    for seeds, (band, words) in expected.items():
        assert default_band(seeds) == band
        frame = read_runs([fake_sweep(tmp_path / str(seeds), seeds)])
        figure = curves_figure(frame, choose_metrics(["spearman"], "bon/10", frame))
        title = figure._suptitle.get_text()
        assert words in title and f"n = {seeds}" in title
        assert ("not reliable" in title) == (seeds < 3)
        pyplot().close(figure)
    assert "only 2 seed(s)" in caplog.text
    # an explicit band wins, and a 2-seed ci band is 12.7 standard errors wide
    frame = read_runs([tmp_path / "2"])
    title = curves_figure(frame, choose_metrics(["spearman"], "bon/10", frame), band="ci")._suptitle.get_text()
    assert "95% Student-t interval" in title
    values = np.array([[0.0], [1.0]])
    assert float(band_interval(values, "ci").half_width[0]) == pytest.approx(12.7062 * 0.5, rel=1e-4)
    assert float(band_interval(values, "se").half_width[0]) == pytest.approx(0.5)
    assert np.isnan(band_interval(values, "none").low).all()


def test_legend_is_best_first_and_delta_rows_say_which_side_is_better(tmp_path):
    frame = read_runs([fake_sweep(tmp_path, 3, ("random", "dopt", "bald"))])  # bald best, random worst
    figure = curves_figure(frame, choose_metrics(["spearman", "bon"], "bon/10", frame), paired=True)
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["bald", "dopt", "random"]
    # matplotlib fills legend columns first: 5 entries in 4 columns are passed as 0, 4, 1, 2, 3 to read 0-4 by row
    assert row_major(list("01234"), 4) == list("04123") and row_major(list("0123456"), 3) == list("0361425")
    labels = [axis.get_ylabel() for axis in figure.axes if axis.get_ylabel()]
    assert "below 0 = better than random" in labels[2] and "above 0 = better" in labels[3]
    assert "lower is better" in labels[0] and "higher is better" in labels[1]


def test_table_statistics_labels_to_target_and_paired_deltas(tmp_path):
    for seed in range(3):
        write_run(tmp_path, "random", seed, [0.5, 0.6 + 0.01 * seed], selection_seconds=[0, 0.01 * (seed + 1)])
        write_run(tmp_path, "dopt", seed, [0.5, 0.8 + 0.02 * seed], selection_seconds=[0, 0.5 + 1.5 * seed])
    table = summary_table(read_runs([tmp_path]), "bon/10").set_index("selector")
    assert table.loc["dopt", "rank"] == 1 and table.loc["random", "rank"] == 2
    assert table.loc["random", "target_spearman"] == pytest.approx(0.61)  # random's final mean Spearman
    assert table.loc["dopt", f"{TO_TARGET}_reached"] == 3 and table.loc["random", f"{TO_TARGET}_reached"] == 2
    assert table.loc["dopt", f"{TO_TARGET}_mean"] == 20 and np.isnan(table.loc["random", f"{TO_TARGET}_mean"])
    finals = np.array([0.2, 0.18, 0.16]) - np.array([0.4, 0.39, 0.38])
    low, high = stats.t.interval(0.95, 2, loc=finals.mean(), scale=stats.sem(finals))
    assert table.loc["dopt", "delta_final_one_minus_spearman_mean"] == pytest.approx(-0.21)
    assert table.loc["dopt", "delta_final_one_minus_spearman_low"] == pytest.approx(low)
    assert table.loc["dopt", "delta_final_one_minus_spearman_high"] == pytest.approx(high)
    aucs = [area_under_curve([10, 20], [0.5, 0.2 - 0.02 * seed]) for seed in range(3)]
    assert table.loc["dopt", "auc_one_minus_spearman_mean"] == pytest.approx(np.mean(aucs))
    assert np.isnan(table.loc["random", "delta_final_one_minus_spearman_mean"])
    # selection seconds per round over rounds > 0: dopt's runs average 0.5, 2.0 and 3.5 s
    assert table.loc["dopt", ["selection_seconds_median", "selection_seconds_min", "selection_seconds_max"]
                     ].tolist() == pytest.approx([2.0, 0.5, 3.5])


def test_no_timing_interval_is_negative(tmp_path):
    """Skewed selection times: mean ± t half-width would go below 0; median and range never do."""
    for seed, seconds in enumerate([0.001, 0.001, 0.002, 5.0]):
        write_run(tmp_path, "dopt", seed, [0.5, 0.6], selection_seconds=[0, seconds])
    frame = read_runs([tmp_path])
    assert float(t_interval(final_rows(frame)["selection_seconds"].to_numpy()).low) < 0  # what is avoided
    table = summary_table(frame, "bon/10")
    assert (table.filter(like="selection_seconds").to_numpy() >= 0).all()
    assert "| 0.0015 (0.001–5) |" in to_markdown(table, "bon/10")


def test_bon_size_defaults_to_the_largest_shared_and_names_the_others(tmp_path):
    frame = read_runs([fake_sweep(tmp_path, 1)])
    assert choose_bon(frame, None) == "bon/10"
    with pytest.raises(Exception, match=r"available: \[5, 10\]"):
        choose_bon(frame, 50)


def test_plot_cli_writes_the_tidy_rows_and_accepts_null_metrics(tmp_path, capsys):
    sweep = fake_sweep(tmp_path / "sweep", 3, ("random", "dopt", "bald"))
    write_run(sweep, "entropy", 0, [0.5, None])  # an undefined metric is null in metrics.jsonl
    main([str(sweep), "--out", str(tmp_path / "out"), "--paired", "--selectors", "random,dopt,entropy",
          "--metrics", "spearman,bon,fisher_logdet"])
    rows = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert rows["run"].nunique() == 7 and set(rows["selector"]) == {"random", "dopt", "entropy"}
    assert len(pd.read_parquet(tmp_path / "out" / "runs.parquet")) == len(rows) == 14
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.set_index("selector").loc["entropy", "final_one_minus_spearman_mean"] != 0  # NaN, not 0
    assert np.isnan(summary.set_index("selector").loc["entropy", "final_one_minus_spearman_mean"])
    assert (tmp_path / "out" / "curves.png").stat().st_size > 10_000
    assert "7 runs, 1 setting(s), 3 selector(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(sweep), "--out", str(tmp_path / "out"), "--selectors", "nope"])
    assert "available: bald,dopt,entropy,random" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(sweep), "--out", str(tmp_path / "out"), "--metrics", "spearman,nope"])
    assert "--metrics nope" in capsys.readouterr().err


def test_runs_resumed_onto_changed_inputs_are_marked(tmp_path, caplog):
    fake_sweep(tmp_path, 2)
    write_run(tmp_path, "bald", 0, [0.5, 0.7], allow_changed_inputs=True)
    frame = read_runs([tmp_path])
    assert "resumed onto changed inputs" in caplog.text
    markdown = to_markdown(summary_table(frame, "bon/10"), "bon/10")
    assert "| bald † |" in markdown and "† = some of its runs" in markdown
    assert legend_label(frame, "bald") == "bald †"


def test_finished_runs_whose_inputs_changed_since_are_marked(tmp_path, caplog):
    fake_sweep(tmp_path, 2)
    folder = write_run(tmp_path, "bald", 0, [0.5, 0.7])
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "inputs_changed_since": ["your code changed: m.py"]}))
    frame = read_runs([tmp_path])
    assert "changed since they finished" in caplog.text and str(folder.resolve()) in caplog.text
    markdown = to_markdown(summary_table(frame, "bon/10"), "bon/10")
    assert "| bald † |" in markdown and "| random |" in markdown and "changed since they finished" in markdown
    assert legend_label(frame, "bald") == "bald †" and legend_label(frame, "random") == "random"


def test_repeated_runs_are_counted_once(tmp_path, caplog):
    fake_sweep(tmp_path / "a", 2)
    fake_sweep(tmp_path / "b", 2)
    frame = read_runs([tmp_path / "a", tmp_path / "b"])
    assert frame["run"].nunique() == 4 and caplog.text.count("repeats") == 4


def test_paired_difference_uses_shared_seeds_and_points():
    line = Curves(np.array([10, 20, 30]), np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]), (0, 1, 2))
    baseline = Curves(np.array([10, 20]), np.array([[1.0, 1], [2, 2]]), (2, 1))
    diff = paired_difference(line, baseline)
    assert diff is not None and diff.seeds == (1, 2) and diff.n_labels.tolist() == [10, 20]
    np.testing.assert_array_equal(diff.values, [[2.0, 3.0], [6.0, 7.0]])


def test_selector_colours_are_fixed_and_distinct():
    assert len(set(COLOURS.values())) == len(COLOURS)
    shipped = {path.stem for path in (CONF_DIR / "selector").glob("*.yaml")}
    assert shipped <= set(COLOURS), f"selectors without a colour of their own: {sorted(shipped - set(COLOURS))}"
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
        read_runs([tmp_path / "missing"])
