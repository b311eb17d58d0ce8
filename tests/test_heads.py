"""Reward heads as a config group: every preset composes with every head, the linear head is θᵀx on the raw
embedding, a head's own sizes drive the memory estimate and the thread rule, and a new head is one class + one YAML."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from benchmark import api
from benchmark.config import instantiate_checked
from benchmark.memory import estimate
from benchmark.paths import CONF_DIR
from benchmark.reward_model import LinearHead, RewardHead, RewardMLP, build_head, head_sizes
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec
from tests.conftest import TINY, compose_config

PRESETS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
HEADS = sorted(p.stem for p in (CONF_DIR / "reward_model").glob("*.yaml"))
#: TINY without the MLP's width, so it fits every head.
TINY_ANY_HEAD = [o for o in TINY if not o.startswith("reward_model.width")]


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_with_every_head(preset, head):
    cfg = compose_config(f"experiment={preset}", f"reward_model={head}", tiny=False)
    spec = RunSpec.from_config(cfg)
    model = build_head(spec.head, cfg.model.dim or 8, 0, torch.device("cpu"))
    assert isinstance(model, RewardHead) and model.theta.shape == (model.feature_dim,)
    if head == "mlp" and preset in ("quick", "toy"):
        assert spec.head.width == 64  # the preset's MLP size (conf/experiment_head/)


def test_every_preset_head_file_names_a_preset_and_a_head():
    # experiment_head/<preset>_<head>.yaml is chosen by interpolation: a misnamed file would never apply.
    for path in (CONF_DIR / "experiment_head").glob("*.yaml"):
        assert path.stem in {f"{p}_{h}" for p in PRESETS for h in HEADS}, path


def test_the_linear_head_is_a_bias_free_linear_model_on_the_embedding():
    head = LinearHead(5)
    x = torch.randn(7, 5)
    assert head.features(x) is x and head.feature_dim == 5
    torch.testing.assert_close(head(x), x @ head.theta)
    assert head.parameter_count() == 5 and head.multiply_adds(7) == 35


def test_the_mlp_counts_its_parameters_and_work():
    head = RewardMLP(16, width=8, layers=2)
    assert head.parameter_count() == (16 * 8 + 8) + (8 * 8 + 8) + 8
    assert head.multiply_adds(3) == 3 * (16 * 8 + 8 * 8) and head.activations_per_row() == 3 * 8 * 2
    on_meta = head_sizes(OmegaConf.create({"_target_": "benchmark.reward_model.RewardMLP", "width": 8,
                                           "layers": 2}), 16)
    assert on_meta.parameter_count() == head.parameter_count() and on_meta.theta.is_meta


def test_the_memory_estimate_reads_the_head(make_config):
    data = instantiate_checked(make_config().dataset, "dataset")
    mlp = {p.what: p for p in estimate(RunSpec.from_config(make_config()), data)}
    linear_cfg = make_config("reward_model=linear", *TINY_ANY_HEAD, tiny=False)
    linear = {p.what: p for p in estimate(RunSpec.from_config(linear_cfg), data)}
    assert "reward model with Adam state (832 parameters)" in mlp  # 3 × (16·16 + 16) + 16
    assert "reward model with Adam state (16 parameters)" in linear  # θ ∈ R^D, D = 16
    assert "lower model.dim" in linear["Fisher information (h x h float64, h=16)"].fix


def test_a_linear_head_run_finishes_with_the_embedding_as_features(tmp_path):
    run_experiment(compose_config("reward_model=linear", "selector=dopt", *TINY_ANY_HEAD, tiny=False), tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(np.isfinite(r["spearman"]) for r in records)
    assert "_target_: benchmark.reward_model.LinearHead" in (tmp_path / "config.yaml").read_text()


class ScaledLinear(RewardHead):
    """A user's head: θᵀ(scale · x), written outside the package."""

    size_keys = "model.dim"

    def __init__(self, dim: int, scale: float = 1.0):
        super().__init__()
        self.scale = scale
        self.head = torch.nn.Linear(dim, 1, bias=False)

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.scale * embeddings

    def multiply_adds(self, rows: int) -> int:
        return 2 * rows * self.feature_dim


def test_a_new_head_is_one_class_and_one_yaml(tmp_path: Path):
    (tmp_path / "reward_model").mkdir()
    (tmp_path / "reward_model" / "scaled.yaml").write_text(
        "defaults:\n  - training@_here_: adam\n  - _self_\n_target_: tests.test_heads.ScaledLinear\nscale: 2.0\n")
    result = api.run(["reward_model=scaled", f"output_root={tmp_path / 'out'}", *TINY_ANY_HEAD], config_dir=tmp_path)
    assert len(result.records) == 3 and result.summary["status"] == "finished"
    with pytest.raises(Exception, match="parameters it accepts: scale"):
        api.run(["reward_model=scaled", "+reward_model.width=3", *TINY_ANY_HEAD], config_dir=tmp_path)
