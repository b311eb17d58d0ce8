"""Annotation cost at plot time (plots.cost, arm-bench-plot --x cost) against a hand computation."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import UserError
from plots import cli
from plots.cost import parse_costs, with_cost
from tests.test_results import write_run


def test_costs_parse_and_bad_specs_name_the_fix():
    assert parse_costs("in_prompt=1,cross_prompt=2.5") == {"in_prompt": 1.0, "cross_prompt": 2.5}
    for bad in ("in_prompt=1", "in_prompt=1,cross_prompt=x", "in_prompt=0,cross_prompt=2", "a=1,b=2"):
        with pytest.raises(UserError, match="in_prompt=1,cross_prompt=2"):
            parse_costs(bad)


def test_cost_adds_each_rounds_pairs_at_their_types_price():
    frame = pd.DataFrame({
        "run": ["a"] * 3 + ["b"] * 3, "round": [0, 1, 2] * 2, "n_labels": [10, 15, 25] * 2,
        "setup": ["cross_prompt"] * 3 + ["in_prompt"] * 3,
        "batch_cross_prompt_fraction": [None, 0.4, 1.0, None, 0.0, 0.0],
    }).sample(frac=1.0, random_state=0)  # the rows' order must not matter
    out = with_cost(frame, {"in_prompt": 1.0, "cross_prompt": 3.0}).set_index(["run", "round"])["cost"]
    # a: 10 initial cross pairs at 3, then 5 pairs 40 % cross (2 at 3, 3 at 1), then 10 cross pairs at 3.
    assert list(out.loc["a"].sort_index()) == [30.0, 30.0 + 5 * (0.4 * 3 + 0.6), 30.0 + 9.0 + 30.0]
    assert list(out.loc["b"].sort_index()) == [10.0, 15.0, 25.0]


def test_plot_draws_curves_against_cost(tmp_path):
    for setup, fraction in (("in_prompt", 0.0), ("cross_prompt", 1.0)):
        for selector in ("random", "dopt"):
            for seed in range(2):
                folder = write_run(tmp_path / "sweep", selector, seed, [0.5, 0.6, 0.7],
                                   config={"setup.pairing": setup}, labels={"setup": setup}, name=f"setup={setup},")
                rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
                rows = [{**row, "batch_cross_prompt_fraction": None if row["round"] == 0 else fraction}
                        for row in rows]
                (folder / "metrics.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    drawn = cli.run(cli.parse_args([str(tmp_path / "sweep"), "--x", "cost", "--cost", "in_prompt=1,cross_prompt=2"]))
    assert tmp_path / "sweep" / "plots" / "curves_cost.png" in drawn.written
    costs = with_cost(drawn.frame, {"in_prompt": 1.0, "cross_prompt": 2.0})
    final = costs.groupby("setup", observed=True)["cost"].max()
    assert final["in_prompt"] == 30.0 and final["cross_prompt"] == 60.0
    assert np.isfinite(costs["cost"]).all()
    with pytest.raises(SystemExit):
        cli.parse_args([str(tmp_path / "sweep"), "--x", "cost"])
