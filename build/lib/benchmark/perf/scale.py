"""Seconds and peak anonymous memory of one paper-shaped round, stage by stage (a benchmark, not a test).

``python -m benchmark.perf scale`` generates (or reuses, ``--skip-generate``) the synthetic data at the
paper's shapes (40,000 × 10 train, 2,000 × 500 test, D = 2048, float16) under ``--root``, fills the
labelled set with random pairs up to ``--labels`` less one batch, and runs one round of the real loop per
setup: in-prompt (capped pool) and cross-prompt (the implicit pool of all pairs among the round's 5,000
responses). Training comes first, as at the end of the previous round, so selection reuses its features of
the labelled responses as the loop does; it runs ``--steps`` Adam steps and is extrapolated to the config's
steps, labelled as such. Evaluation is the same work in both setups, so it is timed once.
"""

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra import compose, initialize_config_dir

from benchmark.config import Pairing, instantiate_checked
from benchmark.data import PreferenceData
from benchmark.loop import ActiveLearning, check_against_data
from benchmark.paths import CONF_DIR
from benchmark.perf.memory import status_mb, timed
from benchmark.pools import pair_space_size, unrank_pairs
from benchmark.reward_model import resolve_device
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.spec import RunSpec

QUICK = [
    "dataset.train_prompts=400", "dataset.test_prompts=20", "dataset.test_responses=50", "model.dim=32",
    "dataset.prompt_rank=8", "dataset.response_rank=8", "reward_model.width=16",
    "prompts_per_round=150",  # 1,500 responses: just above the implicit-pool threshold
]
Row = tuple[str, str, float, float]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf scale", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("/tmp/arm-scale"), help="data cache (5.7 GB at full size)")
    parser.add_argument("--skip-generate", action="store_true", help="fail instead of generating missing data")
    parser.add_argument("--steps", type=int, default=3, help="training steps actually run (then extrapolated)")
    parser.add_argument("--labels", type=int, default=10_000, help="labelled pairs the round retrains on")
    parser.add_argument("--selectors", nargs="+", default=["dopt", "pastaware_dopt", "entropy", "random"])
    parser.add_argument("--setups", nargs="+", default=[p.value for p in Pairing], choices=[p.value for p in Pairing])
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, for a smoke test in seconds")
    options = parser.parse_args(argv)
    if options.quick:
        options.labels = min(options.labels, 400)
        options.steps = min(options.steps, 2)
    return options


def compose_config(options: argparse.Namespace, setup: str, selector: str) -> Any:
    overrides = [
        "experiment=paper_scale", "logger=none", f"dataset.cache_dir={options.root}",
        f"++dataset.generate={not options.skip_generate}", f"reward_model.device={options.device}",
        f"setup={setup}", f"selector={selector}", *(QUICK if options.quick else []),
    ]
    if setup == Pairing.cross_prompt.value:
        overrides.append("candidates_per_round=null")
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=True)


class TimedSelector(Selector):
    """Wraps a selector to time ``select`` alone, apart from the loop's featurising and diagnostics."""

    def __init__(self, inner: Selector, synchronize: Callable[[], None]):
        self.inner, self.synchronize = inner, synchronize
        self.allows_repeats = inner.allows_repeats
        self.seconds, self.peak_mb = 0.0, 0.0

    def select(self, context: SelectionContext, n: int) -> np.ndarray:
        rows, self.seconds, self.peak_mb = timed(lambda: self.inner.select(context, n), self.synchronize)
        return rows


def prefill(loop: ActiveLearning, count: int) -> None:
    """Label ``count`` random pairs of the setup over all train prompts, as if earlier rounds had run."""
    data, pairing = loop.data, loop.spec.pairing
    space = pair_space_size(data.train_prompts, data.responses_per_prompt, pairing)
    index = np.random.default_rng(0).choice(space, size=count, replace=False)
    first, second = unrank_pairs(index, data.train_prompts, data.responses_per_prompt, pairing)
    loop.annotate(np.stack([first, second], axis=1))


def run_setup(options: argparse.Namespace, setup: str, evaluate: bool, sync: Callable[[], None]) -> list[Row]:
    cfg = compose_config(options, setup, options.selectors[0])
    target_steps, cfg.reward_model.steps = cfg.reward_model.steps, options.steps
    spec = RunSpec.from_config(cfg)
    data: PreferenceData = instantiate_checked(spec.dataset, "dataset")
    check_against_data(spec, data)
    loop = ActiveLearning(spec, data, instantiate_checked(spec.selector, "selector"))
    prefill(loop, options.labels - spec.batch_size)
    # Training ends the previous round, as in the loop, so selection reuses its features of the labelled responses.
    _, seconds, peak = timed(lambda: loop.retrain(0), sync)
    rows: list[Row] = [
        (setup, f"train {options.steps} steps on {len(loop.labelled):,} labels", seconds, peak),
        (setup, f"train {target_steps} steps: EXTRAPOLATED", seconds / options.steps * target_steps, peak),
    ]
    pool, seconds, peak = timed(lambda: loop.round_pool(1), sync)
    kind = f"implicit, {len(pool):,} pairs" if pool.implicit else f"{len(pool):,} pairs"
    rows.append((setup, f"pool ({kind})", seconds, peak))
    chosen = None
    for name in options.selectors:
        inner = instantiate_checked(compose_config(options, setup, name).selector, "selector")
        loop.selector = TimedSelector(inner, sync)
        (picked, _), seconds, peak = timed(lambda: loop.choose(1, pool), sync)
        rows.append((setup, f"select {name}: selector only", loop.selector.seconds, loop.selector.peak_mb))
        rows.append((setup, f"select {name}: + features, diagnostics", seconds, peak))
        chosen = picked if chosen is None else chosen
    _, seconds, peak = timed(lambda: loop.annotate(pool.global_pairs(chosen)), sync)
    rows.append((setup, "annotate", seconds, peak))
    if evaluate:
        assert loop.model is not None
        _, seconds, peak = timed(lambda: loop.evaluator.evaluate(loop.model, loop.device), sync)
        test = data.test_embeddings.shape
        rows.append((setup, f"evaluate {test[0]:,} x {test[1]} test responses", seconds, peak))
    return rows


def main(argv: list[str]) -> None:
    options = parse(argv)
    device = resolve_device(options.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else lambda: None
    cfg = compose_config(options, Pairing.in_prompt.value, options.selectors[0])
    data, seconds, peak = timed(lambda: instantiate_checked(cfg.dataset, "dataset"), sync)
    shape = f"{data.train_embeddings.shape} + {data.test_embeddings.shape} {data.train_embeddings.dtype}"
    rows: list[Row] = [("data", f"open or generate {shape}", seconds, peak)]
    for index, setup in enumerate(options.setups):
        rows += run_setup(options, setup, evaluate=index == 0, sync=sync)
    print(f"device {device}, {torch.get_num_threads()} torch threads, h = {cfg.reward_model.width}, "
          f"{cfg.prompts_per_round} prompts per round")
    width = max(len(stage) for _, stage, _, _ in rows)
    print(f"{'setup':<13} {'stage':<{width}} {'seconds':>9} {'peak anon MB':>13}")
    for setup, stage, seconds, peak in rows:
        print(f"{setup:<13} {stage:<{width}} {seconds:>9.2f} {peak:>13.0f}")
    print(f"peak anonymous memory {max(r[3] for r in rows):.0f} MB; "
          f"peak RSS incl. mapped data files {status_mb('VmHWM'):.0f} MB")
