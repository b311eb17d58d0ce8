"""Which held-out prompts a run is evaluated on (``eval.split``, docs/method.md §6.4), applied as the data loads.

``iid`` keeps the dataset's own test split, so a run is what it was before the option existed. The other two test
on a part of the prompt distribution that the train prompts do not cover, to see whether a selector's advantage
survives a distribution shift:

* ``prompt_shift`` (generated data only): the synthetic test prompts moved out along a fixed direction of the
  generator's latent prompt component (:class:`benchmark.data.synthetic.PromptShift`, distance ``eval.shift``);
* ``held_out_clusters`` (any dataset): k-means on every prompt of both splits, each prompt represented by the mean
  of its responses' embeddings (the part its responses share; the files hold no embedding of the prompt alone);
  ``eval.held_out`` of the ``eval.clusters`` clusters are drawn, the test prompts inside them are the test set and
  the train prompts inside them are left out of training. The k-means++ start and the draw come from the run
  seed's ``split`` stream, so every selector at a seed sees the same split.
"""

import inspect
from dataclasses import dataclass

import numpy as np
import torch
from hydra.utils import get_object
from omegaconf import DictConfig

from benchmark.config import EVAL_SPLITS, EvalConfig, instantiate_checked
from benchmark.data.arrays import PreferenceData
from benchmark.errors import UserError
from benchmark.memory import Part, check_allocation
from benchmark.rng import generator
from benchmark.selectors.coreset import kmeans

IID, PROMPT_SHIFT, HELD_OUT_CLUSTERS = EVAL_SPLITS
#: Lloyd steps at most; the clustering stops as soon as no prompt changes cluster.
LLOYD_STEPS = 100
#: The loader parameter through which prompt_shift reaches a generated dataset.
SHIFT_PARAMETER = "test_shift"


@dataclass(frozen=True)
class ClusterSplit:
    """The data of a held-out-clusters split and how it was made, so it can be checked against the original."""

    data: PreferenceData
    centres: np.ndarray  # (clusters, D): the k-means centres of the prompts' mean embeddings
    held_out: np.ndarray  # the held-out cluster ids, sorted
    train_prompts: np.ndarray  # the original train prompts kept for training, in order
    test_prompts: np.ndarray  # the original test prompts of the held-out clusters, in order


def load_split_data(dataset: DictConfig, ev: EvalConfig, seed: int) -> PreferenceData:
    """The run's data: the dataset as configured, with its test (and train) prompts chosen by ``ev.split``."""
    if ev.split == PROMPT_SHIFT:
        refuse_fixed_prompts(dataset)
        return instantiate_checked(dataset, "dataset", **{SHIFT_PARAMETER: float(ev.shift)})
    data = instantiate_checked(dataset, "dataset")
    if ev.split == HELD_OUT_CLUSTERS:
        return held_out_clusters(data, ev.clusters, ev.held_out, generator(seed, "split")).data
    return data


def refuse_fixed_prompts(dataset: DictConfig) -> None:
    """prompt_shift needs a loader that generates its prompts (it takes :data:`SHIFT_PARAMETER`)."""
    target = dataset.get("_target_")
    try:
        accepts = SHIFT_PARAMETER in inspect.signature(get_object(str(target))).parameters
    except Exception:  # not importable: instantiate_checked says so in one line
        return
    if not accepts:
        raise UserError(f"eval.split={PROMPT_SHIFT} moves generated prompts, but dataset._target_={target} reads "
                        f"fixed ones; use dataset=synthetic, or eval.split={HELD_OUT_CLUSTERS} for this dataset")


def prompt_means(embeddings: np.ndarray) -> np.ndarray:
    """(P, D) float64: each prompt's mean response embedding."""
    return np.asarray(embeddings, dtype=np.float64).mean(axis=1)


def held_out_clusters(data: PreferenceData, clusters: int, held_out: int, rng: np.random.Generator) -> ClusterSplit:
    """Train on the train prompts outside ``held_out`` drawn k-means clusters, test on the test prompts inside."""
    points = np.concatenate([prompt_means(data.train_embeddings), prompt_means(data.test_embeddings)])
    if len(points) < clusters:
        raise UserError(f"eval.clusters={clusters} exceeds the {len(points)} prompts of dataset {data.name!r}; "
                        "lower eval.clusters")
    centres, assignment = kmeans(torch.from_numpy(points), clusters, rng, steps=LLOYD_STEPS)
    chosen = np.sort(rng.choice(clusters, size=held_out, replace=False))
    inside = np.isin(assignment.numpy(), chosen)
    train = np.flatnonzero(~inside[: data.train_prompts])
    test = np.flatnonzero(inside[data.train_prompts :])
    where = f"eval.split={HELD_OUT_CLUSTERS} (clusters {', '.join(map(str, chosen))} of {clusters} held out)"
    if not len(test):
        raise UserError(f"{where} leaves no test prompt of dataset {data.name!r}; raise eval.held_out or change "
                        "eval.clusters")
    if not len(train):
        raise UserError(f"{where} leaves no train prompt of dataset {data.name!r}; lower eval.held_out")
    check_allocation(Part(f"train prompts outside the held-out clusters of {data.name!r}",
                          len(train) * data.responses_per_prompt * data.dim * data.train_embeddings.dtype.itemsize,
                          "use eval.split=iid on a dataset this large", on_device=False))
    split = PreferenceData(data.name, np.asarray(data.train_embeddings[train]), data.train_rewards[train],
                           np.asarray(data.test_embeddings[test]), data.test_rewards[test], files=data.files)
    return ClusterSplit(split, centres.numpy(), chosen, train, test)
