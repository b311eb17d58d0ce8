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

from benchmark.annotator import BradleyTerryAnnotator
from benchmark.data import PreferenceData
from benchmark.data.label_checks import refuse_unlearnable_labels, warn_outlier_rewards
from benchmark.diagnostics import KEYS as DIAGNOSTIC_KEYS
from benchmark.diagnostics import batch_diagnostics
from benchmark.errors import UserError
from benchmark.evaluation import Evaluator
from benchmark.labelled import LabelledSet
from benchmark.pools import CandidatePool, build_pool, sample_prompts
from benchmark.reward_model import RewardHead, build_head, resolve_device, to_tensor, train_bradley_terry
from benchmark.rng import generator, torch_seed
from benchmark.selectors.base import SelectionContext, Selector
from benchmark.selectors.guard import guarded_select
from benchmark.spec import RunSpec

log = logging.getLogger(__name__)


def check_against_data(spec: RunSpec, data: PreferenceData) -> None:
    """The checks that need the data's sizes (the config-only ones ran when the spec was built)."""
    k = data.responses_per_prompt
    if k < 2:
        raise UserError(f"dataset {data.name!r} has {k} response per prompt; comparisons need K >= 2")
    if spec.prompts_per_round > data.train_prompts:
        raise UserError(
            f"prompts_per_round={spec.prompts_per_round} exceeds the {data.train_prompts} train prompts of dataset "
            f"{data.name!r}; lower prompts_per_round"
        )
    if spec.model_dim is not None and spec.model_dim != data.dim:
        raise UserError(
            f"model.dim={spec.model_dim} but dataset {data.name!r} has embeddings of dim {data.dim}; "
            "choose the model that made the embeddings, or model.dim=null to take it from the data"
        )
    pool_size = spec.pairing.pool_size(spec.prompts_per_round, k, spec.cap)
    for key, value in (("batch.size", spec.batch_size), ("initial_labels", spec.initial_labels)):
        if value > pool_size:
            raise UserError(
                f"{key}={value} exceeds the {pool_size} candidate pairs of a round ({spec.pairing.name}, "
                f"prompts_per_round={spec.prompts_per_round}, candidates_per_round={spec.cap}); lower {key} or "
                "enlarge the pool"
            )
    available = spec.pairing.space_size(data.train_prompts, k)
    if spec.initial_labels + spec.budget > available:
        raise UserError(
            f"initial_labels + budget = {spec.initial_labels + spec.budget} exceeds the {available} distinct "
            f"{spec.pairing.name} pairs of dataset {data.name!r}; lower budget"
        )
    refuse_unlearnable_labels(data, spec.pairing)
    warn_outlier_rewards(data, spec.annotator.scale)


class ActiveLearning:
    """State of one run: labelled pairs, the current reward model, and the fixed draws."""

    def __init__(self, spec: RunSpec, data: PreferenceData, selector: Selector):
        self.spec, self.data, self.selector = spec, data, selector
        self.seed = spec.seed
        self.device = resolve_device(spec.reward_model.device)
        self.total_responses = data.train_prompts * data.responses_per_prompt
        self.golden = np.asarray(data.train_rewards, dtype=np.float64).reshape(-1)
        scale = spec.annotator.scale if spec.annotator.scale is not None else float(np.std(self.golden))
        self.annotator = BradleyTerryAnnotator(spec.annotator.beta, scale, self.seed)
        ev = spec.eval
        self.evaluator = Evaluator(
            data.test_embeddings, data.test_rewards, self.seed, ev.bon_n,
            ev.bon_repeats, ev.accuracy_pairs, ev.chunk_prompts, ev.test_prompts, self.annotator.probability,
        )
        self.labelled = LabelledSet(self.total_responses)
        self.model: RewardHead | None = None
        self.labelled_features: torch.Tensor | None = None  # φ of the labelled responses from the last training

    def round_pool(self, round_index: int) -> CandidatePool:
        stream = "initial" if round_index == 0 else "prompts"
        prompts = sample_prompts(
            generator(self.seed, stream, round_index), self.data.train_prompts, self.spec.prompts_per_round
        )
        return build_pool(
            prompts, self.data.responses_per_prompt, self.spec.pairing, self.spec.cap,
            self.labelled.sorted_keys, self.total_responses, generator(self.seed, "pool", round_index),
        )

    def features(self, ids: np.ndarray) -> torch.Tensor:
        assert self.model is not None
        with torch.no_grad():
            return self.model.features(to_tensor(self.data.response_embeddings(ids), self.device))

    def choose(self, round_index: int, pool: CandidatePool) -> tuple[np.ndarray, dict[str, float | None]]:
        """Pool rows to label this round, and the batch diagnostics (None for the random initial batch)."""
        if round_index == 0:
            rows = pool.sample_rows(generator(self.seed, "initial", round_index), self.spec.initial_labels)
            return rows, dict.fromkeys(DIAGNOSTIC_KEYS)
        assert self.model is not None
        context = SelectionContext(
            pool=pool,
            features=self.features(pool.response_ids),
            head=self.model.theta.detach().clone(),  # the model's own weights stay the model's
            labelled_pairs=self.labelled.pairs,
            labels=self.labelled.labels,
            featurize=self.features,
            rng=generator(self.seed, "selector", round_index),
            labelled_features=self.labelled_features,
        )
        rows = self._checked_rows(guarded_select(self.selector, context, self.spec.batch_size), pool)
        return rows, batch_diagnostics(context, rows)

    def _checked_rows(self, returned: object, pool: CandidatePool) -> np.ndarray:
        """The selector's rows as int64, or one UserError naming the selector and the rule it broke."""
        name = type(self.selector).__name__
        n = self.spec.batch_size

        def broken(rule: str) -> UserError:
            return UserError(f"selector {name} broke the selector contract: {rule}")

        rows = np.asarray(returned.detach().cpu() if isinstance(returned, torch.Tensor) else returned)
        if rows.size == 0:
            raise broken(f"select(context, n={n}) returned no rows")
        if rows.dtype.kind not in "iu":
            raise broken(f"select() must return integer pool rows, got dtype {rows.dtype}")
        if rows.shape != (n,):
            raise broken(f"select(context, n={n}) must return {n} rows as a 1-D array, got shape {rows.shape}")
        rows = rows.astype(np.int64)
        if rows.min() < 0 or rows.max() >= len(pool):
            raise broken(f"rows must lie in [0, {len(pool)}) (the pool's size), got {rows.min()}..{rows.max()}")
        if pool.is_excluded(rows).any():
            raise broken("it returned already-labelled pairs of the implicit pool (pool.is_excluded)")
        if not self.selector.allows_repeats and len(np.unique(rows)) != n:
            raise broken("rows must be distinct unless the class sets allows_repeats = True")
        return rows

    def annotate(self, pairs: np.ndarray) -> np.ndarray:
        labels = self.annotator.label(
            pairs, self.golden[pairs[:, 0]], self.golden[pairs[:, 1]], self.labelled.repeats(pairs)
        )
        self.labelled.add(pairs, labels)
        self.labelled_features = None  # they no longer cover every labelled response
        return labels

    def retrain(self, round_index: int) -> dict[str, float]:
        rm = self.spec.reward_model
        if self.model is None or not rm.warm_start:
            seed = torch_seed(self.seed, "model_init", round_index)
            self.model = build_head(self.spec.head, self.data.dim, seed, self.device)
        ids, inverse = np.unique(self.labelled.pairs, return_inverse=True)
        inverse = torch.as_tensor(inverse.reshape(-1, 2), device=self.device)
        result = train_bradley_terry(
            self.model, to_tensor(self.data.response_embeddings(ids), self.device), inverse[:, 0],
            inverse[:, 1], torch.as_tensor(self.labelled.labels, device=self.device), rm.steps, rm.lr,
            rm.weight_decay,
        )
        self.labelled_features = result.features
        return {"train_loss": result.loss, "train_accuracy": result.accuracy}

    def restore(self, pairs: np.ndarray, labels: np.ndarray, model_state: dict[str, torch.Tensor]) -> None:
        """Continue from a checkpoint: every label so far and the model trained on them.

        Nothing else carries over between rounds (random streams are keyed by round), so the next round
        runs exactly as it would have without the interruption.
        """
        self.labelled.add(pairs, labels)
        self.model = build_head(self.spec.head, self.data.dim, 0, self.device)
        try:
            self.model.load_state_dict(model_state)
        except RuntimeError as err:  # shapes of another model: the checkpoint is not this run's
            first = str(err).splitlines()[0]
            raise UserError(f"the checkpoint does not fit this run's reward model ({first}); pass overwrite=true "
                            "to start this run again") from err

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
