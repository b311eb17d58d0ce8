"""Results unchanged by refactoring: a few tiny runs compared key by key with their stored metrics.

The stored ``tests/data/regression/<case>.jsonl`` files are the metrics.jsonl of these runs made before the
pluggable heads, posteriors, pairings and the metric registry were introduced. Every key those records hold must
keep its value exactly (new metric keys may be added: they draw from their own streams). Regenerate only when a
change of results is intended: ``python -m tests.test_regression`` (and say so in the commit).
"""

import json
from pathlib import Path

import pytest

from benchmark.outputs import RunFolder, read_jsonl
from benchmark.runner import run_experiment
from tests.conftest import compose_config

STORED = Path(__file__).parent / "data" / "regression"
TOY = ["experiment=toy", "logger=none", "budget=20", "reward_model.steps=40", "dataset.train_prompts=30",
       "dataset.test_prompts=10", "eval.bon_repeats=2"]
#: case name -> (overrides, whether the TINY sizes apply)
CASES: dict[str, tuple[list[str], bool]] = {
    "in_prompt_dopt": (["selector=dopt"], True),
    "in_prompt_random": (["selector=random"], True),
    "in_prompt_bald": (["selector=bald"], True),
    "cross_prompt_dopt": (["selector=dopt", "setup=cross_prompt"], True),
    "cross_prompt_batchbald": (["selector=batchbald", "setup=cross_prompt", "posterior.samples=8"], True),
    "cross_prompt_epig_ensemble": (["selector=epig", "setup=cross_prompt", "posterior=ensemble", "posterior.samples=4"],
                                   True),
    "in_prompt_double_ts": (["selector=double_ts"], True),
    "toy_entropy": (["selector=entropy", *TOY], False),
    "toy_pastaware_dopt": (["selector=pastaware_dopt", *TOY], False),
}


def run_case(name: str, root: Path) -> list[dict]:
    overrides, tiny = CASES[name]
    run_dir = root / name
    run_experiment(compose_config(*overrides, tiny=tiny), run_dir)
    return read_jsonl(RunFolder(run_dir).metrics)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_stored_metric_keeps_its_value(name: str, tmp_path: Path):
    stored = read_jsonl(STORED / f"{name}.jsonl")
    assert stored, f"no stored records for {name}"
    records = run_case(name, tmp_path)
    assert len(records) == len(stored)
    for old, new in zip(stored, records, strict=True):
        missing = sorted(set(old) - set(new))
        assert not missing, f"{name} round {old['round']}: keys gone: {missing}"
        changed = {key: (old[key], new[key]) for key in old if old[key] != new[key]}
        assert not changed, f"{name} round {old['round']}: values changed: {changed}"


def regenerate(root: Path) -> None:
    """Write the stored records afresh (only when a change of results is intended)."""
    STORED.mkdir(parents=True, exist_ok=True)
    for name in sorted(CASES):
        records = run_case(name, root)
        (STORED / f"{name}.jsonl").write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


if __name__ == "__main__":
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("ARM_BENCH_CACHE", str(Path(folder) / "cache"))
        regenerate(Path(folder))
