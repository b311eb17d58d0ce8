"""docs/extending.md: the SelectionContext reference matches the code, and its examples run as written.

The reference block is regenerated from the attributes' docstrings and compared; each documented shape, dtype and
pool kind is checked on a real listed and a real implicit context. The worked selector's picks are checked against
its formula computed pair by pair, and both examples (selector and dataset loader) run through the installed
command from an empty folder.
"""

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.errors import UserError
from benchmark.pairings import CROSS_PROMPT, IN_PROMPT
from benchmark.pools import build_pool
from benchmark.selectors import SelectionContext
from benchmark.selectors.reference import DOC, current_block, entries, render
from tests.conftest import TINY, doc_blocks

COMMAND = Path(sys.executable).with_name("arm-bench")
PROMPTS, K, H = 30, 4, 5


def extending_blocks() -> tuple[dict[str, str], list[str]]:
    """The files and the commands of docs/extending.md."""
    return doc_blocks(DOC.read_text())


def context(implicit: bool, seed: int = 0) -> SelectionContext:
    rng = np.random.default_rng(seed)
    total = PROMPTS * K
    phi = torch.as_tensor(rng.normal(size=(total, H)), dtype=torch.float32)
    labelled = build_pool(np.arange(5), K, IN_PROMPT, 9, np.zeros(0, np.int64), total, rng)
    pairs = labelled.global_pairs(np.arange(len(labelled)))
    pool = build_pool(np.arange(5, 13), K, CROSS_PROMPT, None if implicit else 70, np.zeros(0, np.int64),
                      total, rng, implicit_min_pairs=1)
    assert pool.implicit == implicit
    return SelectionContext(
        pool=pool, features=phi[torch.as_tensor(pool.response_ids)],
        head=torch.as_tensor(rng.normal(size=H), dtype=torch.float32), labelled_pairs=pairs,
        labels=(rng.random(len(pairs)) < 0.5).astype(np.int8), featurize=lambda ids: phi[torch.as_tensor(ids)],
        rng=np.random.default_rng(seed),
    )


def test_the_reference_block_is_generated_from_the_current_docstrings():
    assert current_block(DOC.read_text()) == render(), "run: python -m benchmark.selectors.reference"


def documented(doc: str, key: str) -> str:
    return " ".join(doc.split(f"{key}: ", 1)[1].split("\n\n")[0].split())


@pytest.mark.parametrize(("name", "hint", "doc"), entries(), ids=[entry[0] for entry in entries()])
def test_each_attribute_has_the_documented_shape_dtype_and_pools(name: str, hint: str, doc: str):
    listed, implicit = context(False), context(True)
    sizes = {"R": len(listed.pool.response_ids), "N": len(listed.pool), "h": H, "L": len(listed.labelled_pairs),
             "U": len(np.unique(listed.labelled_pairs)), "2": 2}
    shape = documented(doc, "shape")
    value = getattr(listed, name)
    found = re.match(r"(two )?\(([^)]*)\) (\w+)", shape)
    if found and value is not None and not callable(value):
        parts = value if found[1] else (value,)
        for part in parts:
            expected = tuple(sizes[d.strip()] for d in found[2].split(",") if d.strip())
            assert tuple(part.shape) == expected, name
            assert str(part.dtype).removeprefix("torch.") == found[3], name
    if documented(doc, "pools").startswith("listed only"):
        with pytest.raises(UserError, match="candidates_per_round"):
            getattr(implicit, name)
    else:
        getattr(implicit, name)


def worked_selector() -> type:
    module = types.ModuleType("trace")
    exec(extending_blocks()[0]["trace.py"], module.__dict__)
    return module.FisherTraceSelector


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_the_worked_selector_picks_the_largest_fisher_traces(power: float):
    ctx = context(False, seed=3)
    phi, theta = ctx.features.double().numpy(), ctx.head.double().numpy()
    score = []
    for a, b in zip(ctx.pool.first, ctx.pool.second, strict=True):
        v = phi[a] - phi[b]
        p = 1 / (1 + np.exp(-v @ theta))
        score.append(p * (1 - p) * (v @ v) ** power)
    rows = worked_selector()(power).select(ctx, 7)
    np.testing.assert_array_equal(np.sort(rows), np.sort(np.argsort(score)[::-1][:7]))


def cli(args: list[str], cwd: Path) -> None:
    done = subprocess.run([str(COMMAND), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_examples_run_as_written_from_an_empty_folder(tmp_path: Path):
    files, commands = extending_blocks()
    assert set(files) == {"trace.py", "conf/selector/fisher_trace.yaml", "my_data.py", "conf/dataset/my_npz.yaml"}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "my_data.npz", train_embeddings=rng.normal(size=(60, 4, 8)).astype(np.float32),
             train_rewards=rng.normal(size=(60, 4)), test_embeddings=rng.normal(size=(10, 6, 8)).astype(np.float32),
             test_rewards=rng.normal(size=(10, 6)))
    general = [arg for arg in TINY if not arg.startswith(("dataset.", "model."))]
    for command in commands:
        words = command.split()
        assert words[0] == "arm-bench"
        tiny = TINY if "dataset=my_npz" not in words else general
        power = ["selector.power=2"] if "selector=fisher_trace" in words else []
        cli([*words[1:], *tiny, *power, f"cache_dir={tmp_path / 'cache'}"], tmp_path)
    summaries = {p.parent.name: json.loads(p.read_text()) for p in tmp_path.glob("outputs/runs/*/summary.json")}
    assert len(summaries) == 2 and all(s["status"] == "finished" for s in summaries.values())
    labels = {(s["labels"]["selector"] == "fisher_trace", s["labels"]["dataset"]) for s in summaries.values()}
    assert labels == {(True, "synthetic"), (False, "my_npz")}
    mine = next(s for s in summaries.values() if s["labels"]["dataset"] == "my_npz")
    assert list(mine["data_checksums"]) == ["my_data.npz"]
