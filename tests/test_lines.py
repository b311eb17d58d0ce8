"""Which runs share a line: the selector and its own varying parameters, never one that follows the seed; legends
use the command-line names; lines split into single seeds are warned about."""

import logging

import pytest

from benchmark.errors import UserError
from plots.cli import main
from plots.curves import choose_metrics
from plots.figures import curves_figure
from plots.loading import read_runs
from plots.render import pyplot
from tests.test_results import write_run


def sweep(root, seeds: int = 3):
    """`mine` has a seed-following parameter and a swept margin; dopt has neither."""
    for seed in range(seeds):
        write_run(root, "dopt", seed, [0.5, 0.6])
        for margin in (0.3, 0.5):
            write_run(root, "mine", seed, [0.5, 0.7], config={"selector.seed": seed, "selector.margin": margin},
                      name=f"margin={margin},")
    return root


def test_default_lines_are_the_selector_and_its_varying_parameters_not_the_seed(tmp_path, caplog):
    frame = read_runs([sweep(tmp_path)])
    assert sorted(frame["line"].unique()) == ["dopt", "mine, margin=0.3", "mine, margin=0.5"]
    assert (frame.groupby("line")["seed"].nunique() == 3).all()
    assert "single seed" not in caplog.text


def test_grouping_by_a_seed_following_key_warns_that_lines_hold_single_seeds(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        frame = read_runs([sweep(tmp_path)], by=["selector", "selector.seed"])
    assert "mine, seed=0" in set(frame["line"])
    assert "single seed" in caplog.text and "--by selector" in caplog.text


def test_an_unknown_by_key_names_the_keys_there_are(tmp_path):
    with pytest.raises(UserError, match=r"--by selector\.nope: no run has this key; keys: .*selector\.margin"):
        read_runs([sweep(tmp_path, 1)], by=["selector.nope"])


def test_legend_names_are_the_command_line_names(tmp_path):
    for seed in range(2):
        for selector in ("pastaware_dopt", "xtx", "maxdiff"):
            write_run(tmp_path, selector, seed, [0.5, 0.6])
    frame = read_runs([tmp_path])
    figure = curves_figure(frame, choose_metrics(["spearman"], "bon/10", frame))
    assert sorted(text.get_text() for text in figure.legends[0].get_texts()) == ["maxdiff", "pastaware_dopt", "xtx"]
    pyplot().close(figure)


def test_the_plot_command_takes_by(tmp_path, capsys):
    sweep(tmp_path / "runs", 2)
    main([str(tmp_path / "runs"), "--out", str(tmp_path / "out"), "--by", "selector,selector.margin"])
    assert "mine, margin=0.3" in (tmp_path / "out" / "summary.md").read_text()
