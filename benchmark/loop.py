"""The active reward modeling loop: pool → select → annotate → retrain → evaluate, round by round.

Round 0 labels a random initial batch (the same for every selector at a seed); each later round
samples prompts, builds a candidate pool, lets the selector choose ``batch.size`` pairs from it,
labels them, retrains the reward head on all labels so far and scores it on the test split.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from benchmark.annotator import BradleyTerryAnnotator
from benchmark.config import Pairing
from benchmark.data import PreferenceData
from benchmark.diagnostics import KEYS as DIAGNOSTIC_KEYS
from benchmark.diagnostics import batch_diagnostics
from benchmark.errors import UserError
from benchmark.labelled import LabelledSet
from benchmark.metrics import Evaluator
from benchmark.pools import CandidatePool, build_pool, pair_space_size, sample_prompts
from benchmark.reward_model import RewardMLP, build_model, resolve_device, to_tensor, train_bradley_terry
from benchmark.rng import generator, torch_seed
from benchmark.selectors.base import SelectionContext, Selector

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Sizes derived from the config, checked once before any work."""

    rounds: int
    batch_size: int
    initial_labels: int
    prompts_per_round: int
    cap: int | None
    pairing: Pairing


def plan_experiment(cfg: DictConfig, data: PreferenceData) -> Plan:
    """Check every size against the data and each other; raise one clear error naming the key."""
    batch, budget, initial = cfg.batch.size, cfg.budget, cfg.initial_labels
    prompts, cap = cfg.prompts_per_round, cfg.candidates_per_round
    pairing = Pairing(cfg.setup.pairing)
    k = data.responses_per_prompt
    rm, ev = cfg.reward_model, cfg.eval
    positive = {"batch.size": batch, "budget": budget, "initial_labels": initial, "prompts_per_round": prompts,
                "reward_model.width": rm.width, "reward_model.lr": rm.lr, "eval.bon_repeats": ev.bon_repeats,
                "eval.accuracy_pairs": ev.accuracy_pairs, "eval.chunk_prompts": ev.chunk_prompts,
                **{f"eval.bon_n[{i}]": n for i, n in enumerate(ev.bon_n)},
                **({} if ev.test_prompts is None else {"eval.test_prompts": ev.test_prompts})}
    for key, value in positive.items():
        if value <= 0:
            raise UserError(f"{key}={value} must be positive")
    for key, value in {"seed": cfg.seed, "reward_model.layers": rm.layers, "reward_model.steps": rm.steps,
                       "reward_model.weight_decay": rm.weight_decay}.items():
        if value < 0:
            raise UserError(f"{key}={value} must be zero or positive")
    if not ev.bon_n:
        raise UserError("eval.bon_n=[] must list at least one N of Best-of-N, e.g. eval.bon_n=[5,10]")
    if cap is not None and cap <= 0:
        raise UserError(f"candidates_per_round={cap} must be positive, or null for the whole pool")
    if budget % batch:
        raise UserError(
            f"budget={budget} is not a multiple of batch.size={batch}; rounds = budget / batch.size, "
            f"so pick e.g. budget={budget - budget % batch or batch}"
        )
    if k < 2:
        raise UserError(f"dataset {data.name!r} has {k} response per prompt; comparisons need K >= 2")
    if prompts > data.train_prompts:
        raise UserError(
            f"prompts_per_round={prompts} exceeds the {data.train_prompts} train prompts of dataset "
            f"{data.name!r}; lower prompts_per_round"
        )
    model_dim = cfg.model.dim
    if model_dim is not None and model_dim != data.dim:
        raise UserError(
            f"model.dim={model_dim} but dataset {data.name!r} has embeddings of dim {data.dim}; "
            "choose the model that made the embeddings, or model.dim=null to take it from the data"
        )
    space = pair_space_size(prompts, k, pairing)
    pool_size = space if cap is None else min(cap, space)
    for key, value in (("batch.size", batch), ("initial_labels", initial)):
        if value > pool_size:
            raise UserError(
                f"{key}={value} exceeds the {pool_size} candidate pairs of a round ({pairing.value}, "
                f"prompts_per_round={prompts}, candidates_per_round={cap}); lower {key} or enlarge the pool"
            )
    available = pair_space_size(data.train_prompts, k, pairing)
    if initial + budget > available:
        raise UserError(
            f"initial_labels + budget = {initial + budget} exceeds the {available} distinct {pairing.value} "
            f"pairs of dataset {data.name!r}; lower budget"
        )
    return Plan(budget // batch, batch, initial, prompts, cap, pairing)


class ActiveLearning:
    """State of one run: labelled pairs, the current reward model, and the fixed draws."""

    def __init__(self, cfg: DictConfig, data: PreferenceData, plan: Plan, selector: Selector):
        self.cfg, self.data, self.plan, self.selector = cfg, data, plan, selector
        self.seed = int(cfg.seed)
        self.device = resolve_device(cfg.reward_model.device)
        self.total_responses = data.train_prompts * data.responses_per_prompt
        self.golden = np.asarray(data.train_rewards, dtype=np.float64).reshape(-1)
        scale = cfg.annotator.scale if cfg.annotator.scale is not None else float(np.std(self.golden))
        self.annotator = BradleyTerryAnnotator(cfg.annotator.beta, scale, self.seed)
        ev = cfg.eval
        self.evaluator = Evaluator(
            data.test_embeddings, data.test_rewards, generator(self.seed, "eval"), ev.bon_n,
            ev.bon_repeats, ev.accuracy_pairs, ev.chunk_prompts, ev.test_prompts,
        )
        self.labelled = LabelledSet(self.total_responses)
        self.model: RewardMLP | None = None

    def round_pool(self, round_index: int) -> CandidatePool:
        stream = "initial" if round_index == 0 else "prompts"
        prompts = sample_prompts(
            generator(self.seed, stream, round_index), self.data.train_prompts, self.plan.prompts_per_round
        )
        return build_pool(
            prompts, self.data.responses_per_prompt, self.plan.pairing, self.plan.cap,
            self.labelled.sorted_keys, self.total_responses, generator(self.seed, "pool", round_index),
        )

    def features(self, ids: np.ndarray) -> torch.Tensor:
        assert self.model is not None
        with torch.no_grad():
            return self.model.features(to_tensor(self.data.response_embeddings(ids), self.device))

    def choose(self, round_index: int, pool: CandidatePool) -> tuple[np.ndarray, dict[str, float | None]]:
        """Pool rows to label this round, and the batch diagnostics (None for the random initial batch)."""
        if round_index == 0:
            rows = pool.sample_rows(generator(self.seed, "initial", round_index), self.plan.initial_labels)
            return rows, dict.fromkeys(DIAGNOSTIC_KEYS)
        assert self.model is not None
        context = SelectionContext(
            pool=pool,
            features=self.features(pool.response_ids),
            head=self.model.theta.detach(),
            labelled_pairs=self.labelled.pairs,
            labels=self.labelled.labels,
            featurize=self.features,
            rng=generator(self.seed, "selector", round_index),
        )
        rows = np.asarray(self.selector.select(context, self.plan.batch_size), dtype=np.int64)
        self._check_selection(rows, pool)
        return rows, batch_diagnostics(context, rows)

    def _check_selection(self, rows: np.ndarray, pool: CandidatePool) -> None:
        name = type(self.selector).__name__
        if rows.shape != (self.plan.batch_size,):
            raise RuntimeError(f"{name} returned {rows.shape} rows, expected ({self.plan.batch_size},)")
        if rows.min() < 0 or rows.max() >= len(pool):
            raise RuntimeError(f"{name} returned rows outside the pool of {len(pool)}")
        if pool.is_excluded(rows).any():
            raise RuntimeError(f"{name} returned already-labelled pairs of the implicit pool")
        if not self.selector.allows_repeats and len(np.unique(rows)) != len(rows):
            raise RuntimeError(f"{name} returned repeated rows; set allows_repeats=True if that is intended")

    def annotate(self, pairs: np.ndarray) -> np.ndarray:
        labels = self.annotator.label(
            pairs, self.golden[pairs[:, 0]], self.golden[pairs[:, 1]], self.labelled.repeats(pairs)
        )
        self.labelled.add(pairs, labels)
        return labels

    def retrain(self, round_index: int) -> dict[str, float]:
        rm = self.cfg.reward_model
        if self.model is None or not rm.warm_start:
            seed = torch_seed(self.seed, "model_init", round_index)
            self.model = build_model(self.data.dim, rm.width, rm.layers, seed, self.device)
        ids, inverse = np.unique(self.labelled.pairs, return_inverse=True)
        inverse = torch.as_tensor(inverse.reshape(-1, 2), device=self.device)
        result = train_bradley_terry(
            self.model, to_tensor(self.data.response_embeddings(ids), self.device), inverse[:, 0],
            inverse[:, 1], torch.as_tensor(self.labelled.labels, device=self.device), rm.steps, rm.lr,
            rm.weight_decay,
        )
        return {"train_loss": result.loss, "train_accuracy": result.accuracy}

    def restore(self, pairs: np.ndarray, labels: np.ndarray, model_state: dict[str, torch.Tensor]) -> None:
        """Continue from a checkpoint: every label so far and the model trained on them.

        Nothing else carries over between rounds (random streams are keyed by round), so the next round
        runs exactly as it would have without the interruption.
        """
        self.labelled.add(pairs, labels)
        rm = self.cfg.reward_model
        self.model = build_model(self.data.dim, rm.width, rm.layers, 0, self.device)
        self.model.load_state_dict(model_state)

    def run_round(self, round_index: int) -> "RoundResult":
        """One round: the deterministic metrics record, the wall-clock timings, and what was labelled."""
        clock = time.perf_counter()
        pool = self.round_pool(round_index)
        pool_seconds = time.perf_counter() - clock

        clock = time.perf_counter()
        rows, diagnostics = self.choose(round_index, pool)
        selection_seconds = time.perf_counter() - clock if round_index else 0.0
        pairs = pool.global_pairs(rows)
        labels = self.annotate(pairs)

        clock = time.perf_counter()
        training = self.retrain(round_index)
        train_seconds = time.perf_counter() - clock

        clock = time.perf_counter()
        assert self.model is not None
        metrics = self.evaluator.evaluate(self.model, self.device)
        eval_seconds = time.perf_counter() - clock

        record = {
            "round": round_index,
            "n_labels": len(self.labelled),
            "pool_size": len(pool),
            **metrics,
            **training,
            **diagnostics,
        }
        timings = {
            "round": round_index,
            "pool_seconds": pool_seconds,
            "selection_seconds": selection_seconds,
            "train_seconds": train_seconds,
            "eval_seconds": eval_seconds,
        }
        return RoundResult(record, timings, pairs, labels)


@dataclass(frozen=True)
class RoundResult:
    record: dict[str, Any]
    timings: dict[str, Any]
    pairs: np.ndarray
    labels: np.ndarray
