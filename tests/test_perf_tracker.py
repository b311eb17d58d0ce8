"""The W&B cost script: one row per settings variant, each of arm-bench's lean settings dropped in turn."""

import json
import subprocess
import sys

from benchmark.loggers import LEAN_SETTINGS
from benchmark.perf import tracker


def test_variants_are_arm_bench_w_and_b_defaults_and_each_setting_dropped():
    rows = tracker.variants()
    assert rows["arm-bench (LEAN_SETTINGS)"] == LEAN_SETTINGS and rows["W&B defaults"] == {}
    for key in LEAN_SETTINGS:
        assert rows[f"without {key}"] == {k: v for k, v in LEAN_SETTINGS.items() if k != key}


def test_one_variant_times_its_offline_runs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "benchmark.perf", "wandb", "--runs", "2", "--variant",
                           json.dumps(LEAN_SETTINGS)], capture_output=True, text=True, check=True, cwd=tmp_path)
    seconds = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
