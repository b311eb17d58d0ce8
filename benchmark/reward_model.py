"""Reward heads on frozen embeddings, and their full-batch Bradley-Terry training.

A head (:class:`RewardHead`) maps embeddings to features φ (…, h) and has a bias-free last layer θ, so
θᵀ(φ_a − φ_b) is exactly the predicted reward difference that the Fisher-information selectors need. It states
its own size (parameter count, multiply-adds of a forward pass, activations kept for training), which the
memory estimate and the thread rule read. The ``reward_model`` config group picks one by ``_target_``:

* ``RewardMLP`` (``reward_model=mlp``): D → h (GELU) × layers → 1, the reference head;
* ``LinearHead`` (``reward_model=linear``): r(x) = θᵀx on the raw embedding, φ = x (the classical case).

The group's other keys, :class:`benchmark.config.RewardModelConfig`, say how any head is trained.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn
from tqdm import tqdm

from benchmark.config import instantiate_checked
from benchmark.errors import TrainingDiverged, UserError
from benchmark.optim import Adam
from benchmark.validation import check_device


class RewardHead(nn.Module):
    """What the loop, the selectors and the resource rules need of a reward model.

    A subclass sets ``self.head`` (a bias-free ``nn.Linear(h, 1)``, θ) and implements :meth:`features` and
    :meth:`multiply_adds`; its constructor takes ``dim`` (D) and its own YAML parameters.
    """

    head: nn.Linear
    #: The config keys that make it smaller, named in the memory estimate's advice.
    size_keys = "reward_model.width or reward_model.layers"

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Last-hidden-layer features φ (…, h)."""
        raise NotImplementedError

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(embeddings)).squeeze(-1)

    @property
    def theta(self) -> torch.Tensor:
        return self.head.weight[0]

    @property
    def feature_dim(self) -> int:
        """h, the length of φ and θ."""
        return self.head.in_features

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def multiply_adds(self, rows: int) -> int:
        """Multiply-adds of one forward pass over ``rows`` embeddings (the thread rule's work size)."""
        raise NotImplementedError

    def activations_per_row(self) -> int:
        """Floats a training step keeps per labelled response for the backward pass, besides the embedding."""
        return 0


class RewardMLP(RewardHead):
    """D → h (GELU) × layers → 1, bias-free last layer: the reference head."""

    def __init__(self, dim: int, width: int = 512, layers: int = 3):
        super().__init__()
        if width <= 0:
            raise ValueError(f"width={width} must be positive")
        if layers < 0:
            raise ValueError(f"layers={layers} must be zero or positive")
        blocks: list[nn.Module] = []
        for index in range(layers):
            blocks += [nn.Linear(dim if index == 0 else width, width), nn.GELU()]
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Linear(width if layers else dim, 1, bias=False)
        self.dim, self.width, self.layers = dim, width, layers

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.trunk(embeddings)

    def multiply_adds(self, rows: int) -> int:
        """D·h, then layers − 1 of h·h, per row (the last layer's h is negligible)."""
        if not self.layers:
            return rows * self.dim
        return rows * (self.dim * self.width + (self.layers - 1) * self.width * self.width)

    def activations_per_row(self) -> int:
        return 3 * self.width * self.layers  # pre-activation, GELU output and its gradient per layer


class LinearHead(RewardHead):
    """r(x) = θᵀx, bias-free, on the raw embedding: φ is the embedding itself (h = D)."""

    size_keys = "model.dim (the embeddings' dimension)"

    def __init__(self, dim: int):
        super().__init__()
        self.head = nn.Linear(dim, 1, bias=False)

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        return embeddings

    def multiply_adds(self, rows: int) -> int:
        return rows * self.feature_dim


def build_head(node: DictConfig, dim: int, seed: int, device: torch.device | str) -> RewardHead:
    """A freshly initialised head whose init depends only on ``seed``, not on global RNG state.

    ``device="meta"`` builds it without memory, for its sizes only (memory estimate, thread rule).
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if str(device) == "meta":
            with torch.device("meta"):
                model = instantiate_checked(node, "reward_model", dim=dim)
        else:
            model = instantiate_checked(node, "reward_model", dim=dim)
    if not isinstance(model, RewardHead):
        raise UserError(f"reward_model._target_={node.get('_target_')} is not a benchmark.reward_model.RewardHead; "
                        "subclass it (features, a bias-free last layer `head`, multiply_adds)")
    return model if str(device) == "meta" else model.to(device)


def head_sizes(node: DictConfig, dim: int) -> RewardHead:
    """The head as its sizes (on the meta device: no memory, no initialisation)."""
    return build_head(node, dim, 0, "meta")


@dataclass(frozen=True)
class TrainResult:
    loss: float
    accuracy: float
    features: torch.Tensor  # φ of each training response after training, so the next selection need not recompute


def train_bradley_terry(
    model: RewardHead,
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
    step runs the head once per unique response instead of once per pair side. The final evaluation pass
    keeps its features φ (in ``embeddings`` order) in the result.
    """
    optimiser = Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    targets = labels.float()
    model.train()
    for step in tqdm(range(steps), desc="training", leave=False, disable=None, mininterval=1.0):
        rewards = model(embeddings)
        loss = nn.functional.binary_cross_entropy_with_logits(rewards[first] - rewards[second], targets)
        if not math.isfinite(value := loss.item()):  # one op, where torch.isfinite and bool() take four
            raise TrainingDiverged(
                f"reward model training diverged (loss={value}) at step {step}; "
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
    check_device(name, option)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array, dtype=np.float32), device=device)
