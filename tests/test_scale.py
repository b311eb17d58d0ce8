"""Scale paths at tiny sizes: the bounded evaluation chunks, the generator's chunking, and the perf script."""

from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark import evaluation
from benchmark.data import synthetic
from benchmark.errors import UserError
from benchmark.evaluation import Evaluator
from benchmark.perf import scale


def test_evaluation_chunks_hold_at_most_chunk_values(monkeypatch):
    monkeypatch.setattr(evaluation, "CHUNK_VALUES", 3 * 40 * 8)
    rng = np.random.default_rng(0)
    embeddings, rewards = rng.normal(size=(20, 40, 8)).astype(np.float16), rng.normal(size=(20, 40))
    weights = torch.as_tensor(rng.normal(size=8), dtype=torch.float32)
    seen: list[int] = []

    def reward(chunk: torch.Tensor) -> torch.Tensor:
        seen.append(chunk.numel())
        return chunk @ weights

    evaluator = Evaluator(embeddings, rewards, 1, [5, 40], 2, 4, chunk_prompts=256)
    predicted = evaluator.predict(reward, torch.device("cpu"))
    assert max(seen) <= 3 * 40 * 8 and len(seen) == 7
    np.testing.assert_allclose(predicted, embeddings.astype(np.float32) @ weights.numpy(), rtol=1e-5, atol=1e-5)
    assert evaluator.draws.subsets.shape == (2, 20, 40) and evaluator.draws.subsets.dtype == np.int32


def test_generator_streams_chunks_and_refuses_to_generate_when_told(monkeypatch, tmp_path):
    monkeypatch.setattr(synthetic, "CHUNK_VALUES", 2 * 30 * 16)
    sizes: list[int] = []
    sample = synthetic.SyntheticWorld.sample

    def recording(self, rng, prompts, responses, noise, shift=None):
        sizes.append(prompts * responses * self.mean.shape[0])
        return sample(self, rng, prompts, responses, noise, shift)

    monkeypatch.setattr(synthetic.SyntheticWorld, "sample", recording)
    kwargs = {"dim": 16, "prompt_rank": 4, "response_rank": 4, "cache_dir": str(tmp_path), "dtype": "float16"}
    with pytest.raises(UserError, match="generate=False"):
        synthetic.load_synthetic(train_prompts=9, test_prompts=5, test_responses=30, generate=False, **kwargs)
    data = synthetic.load_synthetic(train_prompts=9, test_prompts=5, test_responses=30, **kwargs)
    assert max(sizes) <= 2 * 30 * 16 and data.test_embeddings.dtype == np.float16
    assert data.test_embeddings.shape == (5, 30, 16) and np.isfinite(data.test_rewards).all()


def test_scale_script_quick_runs_both_setups(tmp_path: Path, capsys):
    scale.main(["--quick", "--root", str(tmp_path), "--steps", "1", "--selectors", "dopt", "random"])
    out = capsys.readouterr().out
    assert "implicit, 1,124,250 pairs" in out and "select dopt: selector only" in out
    assert "EXTRAPOLATED" in out and "evaluate 20 x 50" in out and "peak anonymous memory" in out
