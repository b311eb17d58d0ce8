"""Every metric of a round record: its definition, its key, which way is better, and whether it is a headline.

This file is the metric registry (:data:`METRICS`). The evaluator computes every registered test-set metric, and
the summary metrics (summary.json, W&B), the plots' directions, the summary tables, the dashboard and the round
table printed at the end of a run all read the registry, so a new metric is one function and one entry here.

A test-set metric is a function of a :class:`Predictions` (predicted and golden rewards of the test prompts, and the
run's fixed draws) that returns its keys and values; the draws are fixed once per seed, so every round and every
selector is scored on the same draws. A metric that needs its own random draws takes them from
``Predictions.draws.stream(key)``, a stream of its own, so adding it never shifts the draws of an existing metric.
Keys with ``{n}`` stand for one key per best-of-N size N (``bon/{n}`` -> ``bon/5``, ``bon/50``, ...).
"""

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from benchmark.rng import generator


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..K within each row of (P, K) ``values``, ties sharing the mean of their ranks (Spearman's).

    One stable sort per row; each run of equal sorted values is a group numbered across all rows, so
    its first position and size come from flat cumsum/bincount: a member's rank is first + (size − 1)/2 + 1.
    Written here so the metrics need no scipy at import time.
    """
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts.reshape(-1)) - 1
    first = np.flatnonzero(starts) % values.shape[1]
    mean_rank = (first + (np.bincount(group) - 1) / 2 + 1)[group].reshape(values.shape)
    ranks = np.empty(values.shape, dtype=np.float64)
    np.put_along_axis(ranks, order, mean_rank, axis=1)
    return ranks


def spearman_per_prompt(predicted: np.ndarray, golden: np.ndarray) -> tuple[float, int]:
    """Mean over prompts of Spearman's ρ (average ranks for ties), and how many prompts were skipped.

    Prompts whose golden rewards are all equal have no ranking to recover and are skipped (counted).
    Constant *predictions* score ρ = 0 and are kept, so a collapsed model is not rewarded.
    """
    pred_ranks = average_ranks(predicted)
    gold_ranks = average_ranks(golden)
    pred_centred = pred_ranks - pred_ranks.mean(axis=1, keepdims=True)
    gold_centred = gold_ranks - gold_ranks.mean(axis=1, keepdims=True)
    pred_norm = np.sqrt((pred_centred**2).sum(axis=1))
    gold_norm = np.sqrt((gold_centred**2).sum(axis=1))
    valid = gold_norm > 0
    informative = (pred_norm > 0) & valid
    denominator = np.where(informative, pred_norm * gold_norm, 1.0)
    rho = np.where(informative, (pred_centred * gold_centred).sum(axis=1) / denominator, 0.0)
    skipped = int(np.count_nonzero(~valid))
    return (float(rho[valid].mean()) if valid.any() else float("nan")), skipped


def best_of_n(
    predicted: np.ndarray, golden: np.ndarray, subsets: np.ndarray, ns: Sequence[int]
) -> dict[str, float]:
    """Golden reward of the predicted-best of N random responses, with oracle and random baselines.

    ``subsets`` (repeats, P, K) holds random permutations of each prompt's responses; the first N
    columns are the N-subset, so all N share draws. ``bon_oracle/N`` is the best golden reward in the
    subset and ``bon_random/N`` its mean, on the same draws, for normalising across datasets.
    """
    rows = np.arange(predicted.shape[0])[:, None]
    out: dict[str, float] = {}
    for n in ns:
        chosen, oracle, random = [], [], []
        for permutation in subsets:
            subset = permutation[:, :n]
            pred, gold = predicted[rows, subset], golden[rows, subset]
            chosen.append(gold[rows[:, 0], pred.argmax(axis=1)].mean())
            oracle.append(gold.max(axis=1).mean())
            random.append(gold.mean())
        out[f"bon/{n}"] = float(np.mean(chosen))
        out[f"bon_oracle/{n}"] = float(np.mean(oracle))
        out[f"bon_random/{n}"] = float(np.mean(random))
    return out


def pairwise_accuracy(predicted: np.ndarray, golden: np.ndarray, pairs: np.ndarray) -> float:
    """Share of test pairs (P, M, 2) ordered as the golden reward orders them; predicted ties count 1/2."""
    rows = np.arange(predicted.shape[0])[:, None]
    gold = np.sign(golden[rows, pairs[..., 0]] - golden[rows, pairs[..., 1]])
    pred = np.sign(predicted[rows, pairs[..., 0]] - predicted[rows, pairs[..., 1]])
    decided = gold != 0
    agreement = np.where(pred == 0, 0.5, (pred == gold).astype(np.float64))
    return float(agreement[decided].mean()) if decided.any() else float("nan")


def _tied_pairs(equal_to_previous: np.ndarray) -> np.ndarray:
    """Pairs inside runs of equal values per row, from (P, K − 1) "equals the previous sorted value" flags."""
    rows, k = equal_to_previous.shape[0], equal_to_previous.shape[1] + 1
    starts = np.ones((rows, k), dtype=bool)
    starts[:, 1:] = ~equal_to_previous
    sizes = np.bincount(np.cumsum(starts.reshape(-1)) - 1).astype(np.float64)
    return np.bincount(np.flatnonzero(starts) // k, weights=sizes * (sizes - 1) / 2, minlength=rows)


def _dense_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1, 2, ... within each row, equal values sharing one rank and no gaps."""
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    new = np.ones(values.shape, dtype=np.int64)
    new[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ranks = np.empty(values.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, np.cumsum(new, axis=1), axis=1)
    return ranks


def _inversions(ranks: np.ndarray) -> np.ndarray:
    """Per row, pairs i < j with ranks[i] > ranks[j] (ranks in 1..K), by a Fenwick tree shared by all rows.

    O(K log K) vectorised steps over the rows: 2,000 test prompts of 500 responses take about 0.9 s on 2 CPU cores.
    """
    prompts, k = ranks.shape
    rows = np.arange(prompts)
    tree = np.zeros((prompts, k + 2), dtype=np.int64)  # column k + 1 absorbs updates past the end
    inversions = np.zeros(prompts, dtype=np.int64)
    for j in range(k):
        index, at_most = ranks[:, j].copy(), np.zeros(prompts, dtype=np.int64)
        while index.any():
            at_most += tree[rows, index]
            index -= index & -index
        inversions += j - at_most
        index = ranks[:, j].copy()
        while (index <= k).any():
            tree[rows, index] += 1
            index = np.minimum(index + (index & -index), k + 1)
    return inversions


def kendall_per_prompt(predicted: np.ndarray, golden: np.ndarray) -> float:
    """Mean over prompts of Kendall's τ-b (tie-corrected, as scipy.stats.kendalltau computes it), skipping as Spearman.

    Over the n₀ = C(K, 2) response pairs of a prompt, τ_b = (n_c − n_d) / √((n₀ − n₁)(n₀ − n₂)) with n₁, n₂ the pairs
    tied in the prediction, in the golden reward, and n_c − n_d = n₀ − n₁ − n₂ + n₃ − 2n_d (n₃: tied in both), where
    the discordant pairs n_d are the inversions of the golden ranks once responses are sorted by prediction (Knight's
    O(K log K) method). Prompts whose golden rewards are all equal are skipped (those Spearman skips and counts);
    constant predictions score τ = 0 and are kept, as for Spearman.
    """
    k = predicted.shape[1]
    n0 = k * (k - 1) / 2
    order = np.lexsort((golden, predicted), axis=1)  # by prediction, ties by golden reward
    pred, gold = np.take_along_axis(predicted, order, axis=1), np.take_along_axis(golden, order, axis=1)
    pred_equal = pred[:, 1:] == pred[:, :-1]
    tied_both = _tied_pairs(pred_equal & (gold[:, 1:] == gold[:, :-1]))
    tied_pred = _tied_pairs(pred_equal)
    tied_gold = _tied_pairs(np.diff(np.sort(golden, axis=1), axis=1) == 0)
    discordant = _inversions(np.take_along_axis(_dense_ranks(golden), order, axis=1))
    difference = n0 - tied_pred - tied_gold + tied_both - 2 * discordant
    valid = tied_gold < n0
    informative = valid & (tied_pred < n0)
    denominator = np.sqrt(np.where(informative, (n0 - tied_pred) * (n0 - tied_gold), 1.0))
    tau = np.where(informative, difference / denominator, 0.0)
    return float(tau[valid].mean()) if valid.any() else float("nan")


def best_of_4_accuracy(predicted: np.ndarray, golden: np.ndarray, draws: np.ndarray) -> float:
    """RewardBench 2's best-of-4 accuracy: share of draws (P, M, 4) of four responses of one prompt whose golden best
    the model scores strictly above the other three. Draws whose golden best is tied are left out; NaN if all are."""
    rows = np.arange(predicted.shape[0])[:, None, None]
    gold, pred = golden[rows, draws], predicted[rows, draws]
    best = gold.argmax(axis=-1)[..., None]
    gold_best, pred_best = np.take_along_axis(gold, best, -1), np.take_along_axis(pred, best, -1)
    others = np.arange(4) != best
    decided = ((gold < gold_best) | ~others).all(axis=-1)
    correct = ((pred < pred_best) | ~others).all(axis=-1)
    return float(correct[decided].mean()) if decided.any() else float("nan")


def pair_calibration(predicted: np.ndarray, golden: np.ndarray, pairs: np.ndarray,
                     probability: Callable[[np.ndarray, np.ndarray], np.ndarray], bins: int = 10) -> dict[str, float]:
    """How well the model's pair probabilities p̂ = σ(r̂_a − r̂_b) match the annotator's true p* on test pairs (P, M, 2).

    ``pair_nll``: mean −[p* log p̂ + (1 − p*) log(1 − p̂)], the expected negative log-likelihood of an annotator's
    label; ``pair_ece``: ``bins`` equal-width bins of p̂, Σ_b (n_b / n)·|mean p̂_b − mean p*_b|.
    """
    rows = np.arange(predicted.shape[0])[:, None]
    logit = (predicted[rows, pairs[..., 0]] - predicted[rows, pairs[..., 1]]).reshape(-1)
    truth = probability(golden[rows, pairs[..., 0]], golden[rows, pairs[..., 1]]).reshape(-1)
    log_p, log_not_p = -np.logaddexp(0.0, -logit), -np.logaddexp(0.0, logit)  # log σ(x), log σ(−x), stably
    p = np.exp(log_p)
    bin_of = np.minimum((p * bins).astype(np.int64), bins - 1)
    count = np.bincount(bin_of, minlength=bins)
    gap = np.abs(np.bincount(bin_of, p, bins) - np.bincount(bin_of, truth, bins))  # n_b·|mean p̂_b − mean p*_b|
    return {"pair_nll": float(-(truth * log_p + (1 - truth) * log_not_p).mean()),
            "pair_ece": float(gap[count > 0].sum() / len(p))}


class Draws:
    """The random draws of a run's test-set metrics, fixed for the whole run (every round, every selector).

    The best-of-N subsets and the accuracy pairs come from the ``eval`` stream in this order (never change it:
    the stored metrics depend on it); any other metric draws from :meth:`stream`, one stream per metric key.
    """

    def __init__(self, seed: int, prompts: int, responses: int, bon_repeats: int, accuracy_pairs: int):
        self.seed = seed
        rng = generator(seed, "eval")
        # One repeat at a time: the same draws as one (repeats, P, K) call, without its float64 temporaries.
        self.subsets = np.stack([np.argsort(rng.random((prompts, responses)), axis=1).astype(np.int32)
                                 for _ in range(bon_repeats)])
        first = rng.integers(0, responses, size=(prompts, accuracy_pairs))
        second = (first + rng.integers(1, responses, size=(prompts, accuracy_pairs))) % responses
        self.accuracy_pairs = np.stack([first, second], axis=-1)

    def stream(self, key: str) -> np.random.Generator:
        """A generator of the metric ``key``'s own, the same at every call (so its draws are the same every round)."""
        return generator(self.seed, "eval", zlib.crc32(key.encode()))


@dataclass(frozen=True)
class Predictions:
    """What a test-set metric reads: predicted and golden rewards (P, K) of the test prompts, and the fixed draws."""

    predicted: np.ndarray
    golden: np.ndarray
    draws: Draws
    bon_n: Sequence[int]  # best-of-N sizes, clipped to the responses available
    #: The annotator's true P(a ≻ b) from golden rewards, for the calibration metrics (None: they are not computed).
    probability: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def spearman_metrics(test: Predictions) -> dict[str, float]:
    rho, skipped = spearman_per_prompt(test.predicted, test.golden)
    return {SPEARMAN: rho, PRIMARY: 1.0 - rho, "spearman_skipped_prompts": skipped}


def kendall_metrics(test: Predictions) -> dict[str, float]:
    return {"kendall_tau": kendall_per_prompt(test.predicted, test.golden)}


def accuracy_metrics(test: Predictions) -> dict[str, float]:
    return {"test_accuracy": pairwise_accuracy(test.predicted, test.golden, test.draws.accuracy_pairs)}


def bon_metrics(test: Predictions) -> dict[str, float]:
    return best_of_n(test.predicted, test.golden, test.draws.subsets, test.bon_n)


#: Best-of-4 draws per test prompt.
BO4_DRAWS = 10


def bo4_metrics(test: Predictions) -> dict[str, float]:
    """``bo4_accuracy`` on ``BO4_DRAWS`` draws of 4 responses per prompt from its own stream (needs K ≥ 4)."""
    prompts, k = test.golden.shape
    if k < 4:
        return {}
    draws = np.argsort(test.draws.stream("bo4_accuracy").random((prompts, BO4_DRAWS, k)), axis=-1)[..., :4]
    return {"bo4_accuracy": best_of_4_accuracy(test.predicted, test.golden, draws)}


def calibration_metrics(test: Predictions) -> dict[str, float]:
    """``pair_nll`` and ``pair_ece`` on as many random pairs per prompt as the accuracy pairs, from their own stream."""
    if test.probability is None:
        return {}
    prompts, k = test.golden.shape
    rng, count = test.draws.stream("pair_nll"), test.draws.accuracy_pairs.shape[1]
    first = rng.integers(0, k, size=(prompts, count))
    second = (first + rng.integers(1, k, size=(prompts, count))) % k
    return pair_calibration(test.predicted, test.golden, np.stack([first, second], axis=-1), test.probability)


@dataclass(frozen=True)
class Metric:
    """One key of a round record (metrics.jsonl) and how to read it.

    ``lower_is_better``: the better direction (None: none, e.g. a diagnostic). ``summarised``: a headline number,
    whose final value and area under the curve are in summary.json, the W&B runs table, the dashboard and the
    summary table. ``round_table``: a column of the table printed at the end of a run. ``compute``: for a test-set
    metric, the function that returns this key (and any keys derived with it, registered without ``compute``).
    """

    key: str
    label: str
    lower_is_better: bool | None = None
    summarised: bool = False
    short: str = ""  # the summary table's column heading; empty = the label
    round_table: bool = False
    compute: Callable[[Predictions], dict[str, float]] | None = None

    @property
    def name(self) -> str:
        """The key without its ``/{n}`` part: ``bon`` for ``bon/{n}`` (the summary table's column stem)."""
        return self.key.split("/", 1)[0]

    def at(self, n: int | str) -> "Metric":
        """This metric with ``{n}`` in its key and labels set to the best-of-N size ``n``."""
        return replace(self, key=self.key.format(n=n), label=self.label.format(n=n), short=self.short.format(n=n))


#: The round record's mean Spearman ρ over test prompts: the label target and the round log read it.
SPEARMAN = "spearman"
#: The headline metric: summary tables rank by its area under the curve, the dashboard sorts by it.
PRIMARY = "one_minus_spearman"
METRICS: tuple[Metric, ...] = (
    Metric(SPEARMAN, "Spearman ρ", lower_is_better=False, round_table=True, compute=spearman_metrics),
    Metric(PRIMARY, "1 − Spearman", lower_is_better=True, summarised=True, short="1−ρ"),
    Metric("spearman_skipped_prompts", "test prompts with constant golden rewards"),
    Metric("kendall_tau", "Kendall τ-b", lower_is_better=False, compute=kendall_metrics),
    Metric("test_accuracy", "test pairwise accuracy", lower_is_better=False, compute=accuracy_metrics),
    Metric("bo4_accuracy", "best-of-4 accuracy", lower_is_better=False, compute=bo4_metrics),
    Metric("pair_nll", "pair NLL under the annotator", lower_is_better=True, compute=calibration_metrics),
    Metric("pair_ece", "pair calibration error (10 bins)", lower_is_better=True),
    Metric("bon/{n}", "best-of-{n} golden reward", lower_is_better=False, summarised=True, short="BoN-{n}",
           round_table=True, compute=bon_metrics),
    Metric("bon_oracle/{n}", "best golden reward of {n}"),
    Metric("bon_random/{n}", "mean golden reward of {n}"),
    Metric("train_loss", "train loss", lower_is_better=True),
    Metric("train_accuracy", "train accuracy", lower_is_better=False),
    Metric("fisher_logdet", "log det of the labelled Fisher information"),
    Metric("batch_mean_abs_reward_diff", "batch mean |r̂_a − r̂_b|"),
    Metric("batch_mean_feature_distance", "batch mean distance of φ_a − φ_b"),
    Metric("batch_cross_prompt_fraction", "batch share of cross-prompt pairs"),
)
#: The best-of-N family whose size N a run's headline (``bon_key``) picks.
BON = "bon/{n}"


def best_of_n_key(n: int) -> str:
    """The round-record key of best-of-``n``: ``bon/50``."""
    return BON.format(n=n)


def bon_size(bon_key: str) -> str:
    """N of a best-of-N key: ``bon/50`` -> ``50``."""
    return bon_key.split("/", 1)[1]


def metric(key: str) -> Metric | None:
    """The registered metric of a round-record key (``bon/50`` finds ``bon/{n}`` at 50), or None."""
    for entry in METRICS:
        if entry.key == key:
            return entry
        if "{n}" in entry.key and key.startswith(entry.key.split("{n}")[0]):
            return entry.at(key[len(entry.key.split("{n}")[0]):])
    return None


def summarised(bon_key: str) -> list[Metric]:
    """The headline metrics in registry order, the best-of-N family at the size of ``bon_key``."""
    return [entry.at(bon_size(bon_key)) for entry in METRICS if entry.summarised]


def round_table_metrics(bon_key: str) -> list[Metric]:
    """The round table's metric columns, the best-of-N family at the size of ``bon_key``."""
    return [entry.at(bon_size(bon_key)) for entry in METRICS if entry.round_table]


def evaluate(test: Predictions) -> dict[str, float]:
    """Every registered test-set metric of ``test``."""
    out: dict[str, float] = {}
    for entry in METRICS:
        if entry.compute is not None:
            out.update(entry.compute(test))
    return out
