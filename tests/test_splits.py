"""eval.split (benchmark/data/splits.py): the default changes nothing, the out-of-distribution test prompts are the
held-out part (checked against an independent computation from the arrays), the split is part of a run's identity,
and a bad value is one line naming the key."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from benchmark.config import instantiate_checked
from benchmark.data.splits import held_out_clusters, load_split_data
from benchmark.data.synthetic import SyntheticWorld
from benchmark.errors import UserError
from benchmark.rng import generator
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec, differing_keys, same_run
from tests.conftest import TINY, compose_config

SHIFT = 2.5


def load(*overrides: str, tiny: bool = True):
    spec = RunSpec.from_config(compose_config(*overrides, tiny=tiny))
    return spec, load_split_data(spec.dataset, spec.eval, spec.seed)


def latent_prompts(world: SyntheticWorld, embeddings: np.ndarray) -> np.ndarray:
    """Each prompt's latent prompt component, by least squares on the prompt map from its mean embedding (the response
    component and the mean response lie in the orthogonal response subspace, so they drop out)."""
    centred = np.asarray(embeddings, dtype=np.float64).mean(axis=1) - world.mean
    return np.linalg.lstsq(world.prompt_map.T, centred.T, rcond=None)[0].T


def unit_direction(seed: int, rank: int) -> np.ndarray:
    """The shift's direction as docs/method.md §6.4 defines it: a standard normal draw of stream 3 of the seed."""
    draw = np.random.default_rng(np.random.SeedSequence([seed, 3])).standard_normal(rank)
    return draw / np.linalg.norm(draw)


def test_prompt_shift_moves_only_the_test_prompts_out_of_the_train_range():
    _, iid = load()
    spec, shifted = load("eval.split=prompt_shift", f"eval.shift={SHIFT}")
    ds = spec.dataset
    world = SyntheticWorld.create(spec.model_dim, ds.prompt_rank, ds.response_rank, ds.spectrum_decay, ds.interaction,
                                  ds.offset_scale, ds.seed)
    u = unit_direction(ds.seed, ds.prompt_rank)
    np.testing.assert_array_equal(shifted.train_embeddings, iid.train_embeddings)
    np.testing.assert_array_equal(shifted.train_rewards, iid.train_rewards)
    along_test, along_iid = latent_prompts(world, shifted.test_embeddings) @ u, latent_prompts(
        world, iid.test_embeddings) @ u
    along_train = latent_prompts(world, iid.train_embeddings) @ u
    assert along_test.min() >= SHIFT - 0.05  # every shifted test prompt lies at least SHIFT out along u
    np.testing.assert_allclose(along_test, SHIFT + np.abs(along_iid), atol=0.05)
    assert np.mean(along_train >= SHIFT - 0.05) <= 0.05 and np.mean(along_iid >= SHIFT - 0.05) <= 0.1
    assert abs(along_train.mean()) < 0.3 and 0.7 < along_train.std() < 1.3  # train prompts: N(0, 1) along u
    # Same responses, prompts moved: the difference is one vector per prompt, along u through the prompt map.
    moved = np.asarray(shifted.test_embeddings, dtype=np.float64) - np.asarray(iid.test_embeddings, dtype=np.float64)
    expected = np.outer(along_test - along_iid, u) @ world.prompt_map
    np.testing.assert_allclose(moved, np.broadcast_to(expected[:, None, :], moved.shape), atol=1e-5)
    np.testing.assert_allclose(shifted.test_rewards, world.reward(np.asarray(shifted.test_embeddings)), atol=1e-4)


def nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.argmin(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)


@pytest.mark.parametrize(("overrides", "tiny"), [([], True), (["dataset=real_text"], False)],
                         ids=["synthetic", "real_text"])
def test_held_out_clusters_test_on_the_held_out_prompts_and_train_on_the_rest(overrides, tiny):
    cfg = compose_config(*overrides, "logger=none", tiny=tiny)
    data = instantiate_checked(cfg.dataset, "dataset")
    split = held_out_clusters(data, 3, 1, generator(0, "split"))
    points = np.concatenate([np.asarray(data.train_embeddings, dtype=np.float64).mean(axis=1),
                             np.asarray(data.test_embeddings, dtype=np.float64).mean(axis=1)])
    cluster = nearest(points, split.centres)
    for index in range(3):  # a converged k-means: each centre is the mean of the prompts nearest to it
        np.testing.assert_allclose(split.centres[index], points[cluster == index].mean(axis=0), rtol=1e-9, atol=1e-9)
    inside = np.isin(cluster, split.held_out)
    np.testing.assert_array_equal(split.train_prompts, np.flatnonzero(~inside[: data.train_prompts]))
    np.testing.assert_array_equal(split.test_prompts, np.flatnonzero(inside[data.train_prompts :]))
    assert len(split.held_out) == 1 and 0 < len(split.test_prompts) < len(data.test_embeddings)
    np.testing.assert_array_equal(split.data.train_embeddings, np.asarray(data.train_embeddings)[split.train_prompts])
    np.testing.assert_array_equal(split.data.test_rewards, np.asarray(data.test_rewards)[split.test_prompts])
    np.testing.assert_array_equal(split.data.test_embeddings, np.asarray(data.test_embeddings)[split.test_prompts])


def test_held_out_clusters_are_seeded_by_the_run_seed():
    spec, data = load("eval.split=held_out_clusters", "seed=3")
    raw = instantiate_checked(spec.dataset, "dataset")
    direct = held_out_clusters(raw, spec.eval.clusters, spec.eval.held_out, generator(3, "split")).data
    np.testing.assert_array_equal(data.test_embeddings, direct.test_embeddings)
    np.testing.assert_array_equal(data.train_rewards, direct.train_rewards)
    tests = {held_out_clusters(raw, 3, 1, generator(seed, "split")).test_prompts.tobytes() for seed in range(5)}
    assert len(tests) > 1


def test_the_default_split_is_the_dataset_itself():
    spec, data = load()
    raw = instantiate_checked(spec.dataset, "dataset")
    assert spec.eval.split == "iid"
    for name in ("train_embeddings", "train_rewards", "test_embeddings", "test_rewards"):
        np.testing.assert_array_equal(getattr(data, name), getattr(raw, name))


def test_the_split_is_result_defining_and_older_runs_keep_their_identity():
    default, shifted = (RunSpec.from_config(compose_config(*o)).config for o in ([], ["eval.split=prompt_shift"]))
    older = yaml.safe_load(yaml.safe_dump(default))
    for key in ("split", "shift", "clusters", "held_out"):
        del older["eval"][key]  # a run folder written before eval.split existed
    assert same_run(yaml.safe_dump(older), default)
    assert differing_keys(older, shifted) == ["eval.split"]


def test_an_out_of_distribution_run_records_its_test_files(run_dir):
    summary = run_experiment(compose_config("eval.split=prompt_shift", "eval.shift=3"), run_dir)
    inputs = json.loads((run_dir / "inputs.json").read_text())["data_files"]
    assert summary["status"] == "finished" and "embd_synthetic_synthetic_default_test-shift3.npy" in inputs
    assert "embd_synthetic_synthetic_default_test.npy" not in inputs


BAD_SPLITS = {
    "unknown split": (["eval.split=bogus"], r"^eval\.split=bogus is not one of iid, prompt_shift, held_out_clusters; "
                                            r"pick one of them"),
    "zero shift": (["eval.shift=0"], r"^eval\.shift=0\.0 must be positive$"),
    "no cluster left to train on": (["eval.held_out=3"], r"^eval\.held_out=3 must be below eval\.clusters=3"),
    "zero held out": (["eval.held_out=0"], r"^eval\.held_out=0 must be positive$"),
}


@pytest.mark.parametrize(("overrides", "match"), BAD_SPLITS.values(), ids=BAD_SPLITS.keys())
def test_bad_split_values_are_one_line_naming_the_key(overrides, match, run_dir):
    with pytest.raises(UserError, match=match) as caught:
        run_experiment(compose_config(*overrides), run_dir)
    assert "\n" not in str(caught.value) and not run_dir.exists()


def test_prompt_shift_on_fixed_prompts_names_the_split_that_works(run_dir):
    with pytest.raises(UserError, match=r"^eval\.split=prompt_shift moves generated prompts, but dataset\._target_="
                                        r".*load_embeddings reads fixed ones; .*eval\.split=held_out_clusters"):
        run_experiment(compose_config("dataset=real_text", "eval.split=prompt_shift", "logger=none", tiny=False),
                       run_dir)
    assert not run_dir.exists()


def test_a_held_out_part_without_test_prompts_is_refused(run_dir):
    with pytest.raises(UserError, match=r"^eval\.split=held_out_clusters \(clusters .* of 120 held out\) leaves no "
                                        r"test prompt"):
        run_experiment(compose_config("eval.split=held_out_clusters", "eval.clusters=120", "eval.held_out=1"),
                       run_dir)


def test_cli_exits_2_on_a_bad_split(tmp_path: Path):
    env = {**os.environ, "ARM_BENCH_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "benchmark", *TINY, f"output_root={tmp_path}", "eval.split=ood"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("arm-bench: error: eval.split=ood is not one of iid, prompt_shift, "
                                                    "held_out_clusters; pick one of them (docs/method.md §6.4)")
