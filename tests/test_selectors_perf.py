"""The selector benchmark script runs end to end at tiny sizes: a row per selector YAML and the speedup lines."""

import re

import pytest

from benchmark.perf import selectors


def test_quick_benchmark_prints_every_selector_and_the_speedups(capsys):
    selectors.main(["--quick"])
    lines = capsys.readouterr().out.strip().splitlines()
    for name in [*selectors.yaml_names(), "bald_ensemble", "reference dopt", "reference coreset", "reference epig",
                 "reference badge"]:
        assert any(line.startswith(name + " ") for line in lines), name
    assert any("greedy_dopt past_aware=true" in line for line in lines)
    assert any(line.startswith("reference epig ") and line.endswith("same picks as epig: 100%") for line in lines)
    assert re.fullmatch(r"dopt speedup vs autograd reference \(N=200, h=8\): \d+×", lines[-5])
    assert re.fullmatch(r"dopt speedup vs autograd reference \(N=600, h=16\): \d+×", lines[-4])
    assert re.fullmatch(r"coreset speedup vs reference \(N=600, h=16\): \d+\.\d×", lines[-3])
    assert re.fullmatch(r"epig speedup vs reference \(N=600, h=16\): \d+\.\d×", lines[-2])
    assert re.fullmatch(r"badge peak memory vs reference \(N=600, h=16\): \d+\.\d\d× .*faster", lines[-1])


def test_only_times_the_named_rows_and_rejects_unknown_ones(capsys):
    selectors.main(["--quick", "--only", "dopt,bald_ensemble"])
    rows = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()[2:]]
    assert rows == ["dopt", "bald_ensemble"]
    with pytest.raises(SystemExit):
        selectors.main(["--quick", "--only", "nope"])
