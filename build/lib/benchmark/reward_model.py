"""The reward head on frozen embeddings and its full-batch Bradley-Terry training.

``RewardMLP``: D → h (GELU) × layers → 1 with a bias-free last layer θ, so θᵀ(φ_a − φ_b) is exactly
the predicted reward difference that the Fisher-information selectors need.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from benchmark.errors import TrainingDiverged
from benchmark.optim import Adam


class RewardMLP(nn.Module):
    def __init__(self, dim: int, width: int = 512, layers: int = 3):
        super().__init__()
        blocks: list[nn.Module] = []
        for index in range(layers):
            blocks += [nn.Linear(dim if index == 0 else width, width), nn.GELU()]
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Linear(width if layers else dim, 1, bias=False)

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Last-hidden-layer features φ (…, h)."""
        return self.trunk(embeddings)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(embeddings)).squeeze(-1)

    @property
    def theta(self) -> torch.Tensor:
        return self.head.weight[0]


def build_model(dim: int, width: int, layers: int, seed: int, device: torch.device) -> RewardMLP:
    """A freshly initialised head whose init depends only on ``seed``, not on global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = RewardMLP(dim, width, layers)
    return model.to(device)


@dataclass(frozen=True)
class TrainResult:
    loss: float
    accuracy: float
    features: torch.Tensor  # φ of each training response after training, so the next selection need not recompute


def train_bradley_terry(
    model: RewardMLP,
    embeddings: torch.Tensor,
    first: torch.Tensor,
    second: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    lr: float,
    weight_decay: float = 0.0,
) -> TrainResult:
    """Full-batch Adam on the BT loss BCE(σ(r_a − r_b), label).

    ``embeddings`` holds each labelled response once and ``first``/``second`` index into it, so every
    step runs the MLP once per unique response instead of once per pair side. The final evaluation pass
    keeps its features φ (in ``embeddings`` order) in the result.
    """
    optimiser = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    targets = labels.float()
    model.train()
    for step in tqdm(range(steps), desc="training", leave=False, disable=None, mininterval=1.0):
        rewards = model(embeddings)
        loss = nn.functional.binary_cross_entropy_with_logits(rewards[first] - rewards[second], targets)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"reward model training diverged (loss={loss.item()}) at step {step}; "
                "lower reward_model.lr or check the embeddings for huge values"
            )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        features = model.features(embeddings)
        rewards = model.head(features).squeeze(-1)
        logits = rewards[first] - rewards[second]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, targets)
        accuracy = ((logits > 0).float() == targets).float().mean()
    if not torch.isfinite(loss):
        raise TrainingDiverged("reward model training ended with a non-finite loss; lower reward_model.lr")
    return TrainResult(float(loss), float(accuracy), features)


def resolve_device(name: str, option: str = "reward_model.device") -> torch.device:
    """``auto`` = CUDA when present, else CPU; any other name must be a device this machine has."""
    from benchmark.validation import check_device

    check_device(name, option)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array, dtype=np.float32), device=device)
