"""A dataset's card: the statistics that say whether it is in the regime active reward modeling assumes.

D-optimal selection pays off when rewards are close to linear in the embedding (``linear_probe_r2``), when the
embeddings spread over many directions (``effective_rank``), and when responses to one prompt differ in reward
(``reward_within_sd``) rather than whole prompts (``reward_between_sd``, ``prompt_share``). A verdict measured on
one dataset only carries over to another whose card is alike, so the cards of the embedded datasets are compared
in docs/real_text.md. Every statistic streams over the embeddings in chunks (the paper's 40,000 × 10 × 2048
float16 train file is memory-mapped and never held as float64).
"""

from dataclasses import dataclass

import numpy as np

from benchmark.data.arrays import PreferenceData

#: Rows per chunk when streaming a (N·K, D) matrix through float64 accumulators.
CHUNK_ROWS = 8192
#: The JSON keys of a card, in print order (docs/real_text.md defines each).
CARD_KEYS = ("shape", "effective_rank", "prompt_share", "linear_probe_r2", "reward_within_sd",
             "reward_between_sd", "tied_prompts")


@dataclass(frozen=True)
class Moments:
    """Count, mean and scatter matrix Σ (x − mean)(x − mean)ᵀ of a set of rows."""

    count: int
    mean: np.ndarray
    scatter: np.ndarray


def moments(rows: np.ndarray, extra: np.ndarray | None = None) -> Moments:
    """Moments of ``rows`` (n, D), plus a column ``extra`` (n,) appended when given, streamed in chunks."""
    dim = rows.shape[1] + (extra is not None)
    total, gram = np.zeros(dim), np.zeros((dim, dim))
    for start in range(0, rows.shape[0], CHUNK_ROWS):
        block = np.asarray(rows[start : start + CHUNK_ROWS], dtype=np.float64)
        if extra is not None:
            block = np.column_stack([block, extra[start : start + CHUNK_ROWS]])
        total += block.sum(0)
        gram += block.T @ block
    count = rows.shape[0]
    mean = total / count
    return Moments(count, mean, gram - count * np.outer(mean, mean))


def effective_rank(covariance: np.ndarray) -> float:
    """exp of the entropy of the normalised eigenvalues (Roy & Vetterli, 2007): D for isotropic data, 1 for a line."""
    eigenvalues = np.clip(np.linalg.eigvalsh(covariance), 0.0, None)
    p = eigenvalues / eigenvalues.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def linear_probe_r2(train: Moments, test_rows: np.ndarray, test_rewards: np.ndarray) -> float:
    """R² on the test responses of the least-squares fit, with intercept, of reward on embedding over train.

    ``train`` holds the moments of [embedding, reward]; the centred normal equations give the slope (minimum-norm
    when the embeddings are rank-deficient) and the intercept follows from the means.
    """
    dim = train.mean.shape[0] - 1
    slope = np.linalg.lstsq(train.scatter[:dim, :dim], train.scatter[:dim, dim], rcond=None)[0]
    intercept = train.mean[dim] - train.mean[:dim] @ slope
    residual = total = 0.0
    mean = float(test_rewards.mean())
    for start in range(0, test_rows.shape[0], CHUNK_ROWS):
        block = np.asarray(test_rows[start : start + CHUNK_ROWS], dtype=np.float64)
        target = test_rewards[start : start + CHUNK_ROWS]
        residual += float(((block @ slope + intercept - target) ** 2).sum())
        total += float(((target - mean) ** 2).sum())
    return 1.0 - residual / total if total > 0 else float("nan")


def tied_share(rewards: np.ndarray) -> float:
    """Fraction of prompts (rows) holding at least two equal rewards."""
    ordered = np.sort(rewards, axis=1)
    return float((np.diff(ordered, axis=1) == 0).any(axis=1).mean())


def data_card(data: PreferenceData) -> dict:
    """The card of ``data``, keyed as :data:`CARD_KEYS`; train statistics unless a key says test."""
    n, k, d = data.train_embeddings.shape
    train_rows = data.train_embeddings.reshape(n * k, d)
    test_rows = data.test_embeddings.reshape(-1, d)
    train_rewards = np.asarray(data.train_rewards, dtype=np.float64)
    joint = moments(train_rows, train_rewards.reshape(-1))
    covariance = joint.scatter[:d, :d] / (n * k - 1)
    chunk = max(1, CHUNK_ROWS // k)
    prompt_means = np.concatenate([np.asarray(data.train_embeddings[i : i + chunk], dtype=np.float64).mean(1)
                                   for i in range(0, n, chunk)])
    return {
        "shape": {"train": [n, k, d], "test": list(data.test_embeddings.shape)},
        "effective_rank": effective_rank(covariance),
        "prompt_share": float(np.trace(np.cov(prompt_means, rowvar=False)) / np.trace(covariance)),
        "linear_probe_r2": linear_probe_r2(joint, test_rows, np.asarray(data.test_rewards, np.float64).reshape(-1)),
        "reward_within_sd": float(train_rewards.std(axis=1).mean()),
        "reward_between_sd": float(train_rewards.mean(axis=1).std()),
        "tied_prompts": tied_share(train_rewards),
    }


def format_card(name: str, card: dict) -> str:
    """The card as aligned ``key  value`` lines under the dataset's name."""
    lines = [name]
    for key in CARD_KEYS:
        value = card[key]
        text = ", ".join(f"{s} {'×'.join(map(str, v))}" for s, v in value.items()) if key == "shape" else f"{value:.4g}"
        lines.append(f"  {key:<18} {text}")
    return "\n".join(lines)
