"""Data that would spoil the labels, found before round 0 trains.

The annotator's scale defaults to the std of the golden train rewards, so one wild reward (a parsing error, a
sentinel value) inflates it and turns every label into a near coin flip while the run finishes without a word. The
rule: a golden reward more than :data:`OUTLIER_ROBUST_SDS` robust standard deviations (1.4826 × the median absolute
deviation, which one value cannot move) from the median is an outlier; each split's largest one is named in one
warning with the scale it implies, and the run goes on with the default scale (existing results stay reproducible;
``annotator.scale`` sets another). Rewards tied within every prompt under in-prompt pairs (every label a coin
flip) and embeddings that are the same for every response (constant or all zero: nothing to tell responses apart)
are refused with one line.
"""

import fnmatch
import logging

import numpy as np

from benchmark.data import PreferenceData
from benchmark.errors import UserError
from benchmark.pairings import Pairing

log = logging.getLogger(__name__)

#: Robust standard deviations from the median beyond which a golden reward is flagged.
OUTLIER_ROBUST_SDS = 20.0
#: 1.4826 × MAD estimates the standard deviation of normally distributed values.
MAD_TO_SD = 1.4826
#: Prompts per chunk when scanning embeddings (a constant file is read once, any other stops at its first chunk).
CHUNK_PROMPTS = 256


def source(data: PreferenceData, kind: str, split: str) -> str:
    """The file a split's rewards or embeddings came from (the authors' naming), else a description."""
    pattern = f"{'reward' if kind == 'rewards' else 'embd'}_*_{split}.npy"
    found = [path for path in data.files if fnmatch.fnmatch(path.name, pattern)]
    return str(found[0]) if found else f"the {split} {kind} of dataset {data.name!r}"


def warn_outlier_rewards(data: PreferenceData, scale: float | None) -> None:
    """One warning per split whose largest golden reward breaks the robust rule; ``scale``: annotator.scale."""
    for split, rewards in (("train", data.train_rewards), ("test", data.test_rewards)):
        values = np.asarray(rewards, dtype=np.float64)
        median = float(np.median(values))
        robust_sd = MAD_TO_SD * float(np.median(np.abs(values - median)))
        if robust_sd == 0:
            continue  # over half the rewards are equal: no spread to measure against
        distance = np.abs(values - median) / robust_sd
        index = np.unravel_index(int(np.argmax(distance)), values.shape)
        if distance[index] <= OUTLIER_ROBUST_SDS:
            continue
        effect = (f"it sets the annotator scale (std of the golden train rewards) to {values.std():.5g} instead of "
                  f"about {robust_sd:.5g} without outliers, so labels follow the golden order far less often"
                  if split == "train" and scale is None else "it dominates the Best-of-N metrics")
        log.warning("%s: golden reward %.6g at index (prompt %d, response %d) lies %.0f robust standard deviations "
                    "from the median %.5g (rule: more than %g x 1.4826 x MAD); %s; check the file, or set "
                    "annotator.scale", source(data, "rewards", split), values[index], *index, distance[index],
                    median, OUTLIER_ROBUST_SDS, effect)


def refuse_unlearnable_labels(data: PreferenceData, pairing: Pairing) -> None:
    """Refuse rewards tied within every prompt under a pairing of in-prompt pairs only, and embeddings equal for
    every response."""
    rewards = np.asarray(data.train_rewards)
    k = rewards.shape[1]
    within_prompts_only = not bool(pairing.includes(np.array([0]), np.array([k]), k)[0])  # responses of 2 prompts
    if within_prompts_only and bool(np.all(rewards == rewards[:, :1])):
        raise UserError(f"{source(data, 'rewards', 'train')}: the golden rewards are tied within every prompt, so "
                        "every in-prompt label is a coin flip; use setup=cross_prompt or rewards that differ within "
                        "a prompt")
    for split, embeddings in (("train", data.train_embeddings), ("test", data.test_embeddings)):
        first = np.asarray(embeddings[0, 0])
        if any(np.any(embeddings[start:start + CHUNK_PROMPTS] != first)
               for start in range(0, len(embeddings), CHUNK_PROMPTS)):
            continue
        what = "all zero" if not np.any(first) else "the same vector for every response"
        raise UserError(f"{source(data, 'embeddings', split)}: the embeddings are {what}, so no reward model can tell "
                        "responses apart; rebuild the file (arm-bench-build) or check how it was written")
