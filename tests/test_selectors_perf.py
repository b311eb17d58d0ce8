"""The selector benchmark script runs end to end at tiny sizes and ends with the speedup line."""

import re

from benchmark.perf import selectors


def test_quick_benchmark_prints_the_table_and_the_speedup(capsys):
    selectors.main(["--quick"])
    lines = capsys.readouterr().out.strip().splitlines()
    for name in ("dopt", "greedy_dopt", "bald", "batchbald", "coreset", "maxdiff", "reference dopt"):
        assert any(line.startswith(name + " ") for line in lines), name
    assert any("greedy_dopt past_aware=true" in line for line in lines)
    assert re.fullmatch(r"dopt speedup vs autograd reference \(N=600, h=16\): \d+×", lines[-1])
