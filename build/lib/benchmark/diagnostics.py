"""Per-round numbers that say what a selector is doing: is it exploring, is it picking close calls?

Answers the reviewers' "balance exploration and informativeness" with measurements (docs/method.md §6.3).
"""

import numpy as np
import torch

from benchmark.selectors.base import SelectionContext
from benchmark.selectors.fisher import PRIOR_PRECISION, bernoulli_variance, difference_gram, laplace_precision

KEYS = ("fisher_logdet", "batch_mean_abs_reward_diff", "batch_mean_feature_distance", "batch_cross_prompt_fraction")


def batch_diagnostics(context: SelectionContext, rows: np.ndarray) -> dict[str, float]:
    """Diagnostics of the batch ``rows`` chosen from ``context.pool``, under the model that chose it.

    ``fisher_logdet``: log det(λI + Σ p(1−p)vvᵀ) over the labelled pairs plus this batch — the
    D-optimality criterion itself, comparable across selectors. ``batch_mean_feature_distance``: mean
    Euclidean distance between the batch's difference vectors v (diversity of the batch).
    """
    pool = context.pool
    local_first, local_second = pool.local_pairs(rows)
    first = torch.as_tensor(local_first, device=context.features.device)
    second = torch.as_tensor(local_second, device=context.features.device)
    batch = (context.features[first] - context.features[second]).double()
    batch_information = difference_gram(batch, bernoulli_variance(batch @ context.head.double()))
    information = laplace_precision(context.labelled_information + batch_information, PRIOR_PRECISION)
    distances = torch.cdist(batch, batch)
    n = len(rows)
    prompts = pool.prompt_of_response
    return {
        "fisher_logdet": float(torch.linalg.slogdet(information)[1]),
        "batch_mean_abs_reward_diff": float((context.rewards[first] - context.rewards[second]).abs().mean()),
        "batch_mean_feature_distance": float(distances.sum() / max(n * (n - 1), 1)),
        "batch_cross_prompt_fraction": float(np.mean(prompts[local_first] != prompts[local_second])),
    }
