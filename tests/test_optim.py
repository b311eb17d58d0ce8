"""benchmark.optim.Adam against torch.optim.Adam (the independent implementation) on a small MLP."""

import subprocess
import sys

import pytest
import torch

from benchmark.optim import Adam


def small_mlp() -> torch.nn.Module:
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 1, bias=False))


def trajectories(weight_decay: float, steps: int = 50, skip: int = 0) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Parameters after ``steps`` full-batch steps of both optimisers from the same start and data.

    ``skip``: every ``skip``-th step the first layer's bias has no gradient, so the parameters' step counts differ.
    """
    generator = torch.Generator().manual_seed(0)
    inputs, targets = torch.randn(64, 8, generator=generator), torch.randn(64, generator=generator)
    results = []
    for make in (lambda p: Adam(p, lr=0.01, weight_decay=weight_decay),
                 lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=weight_decay)):
        model = small_mlp()
        optimiser = make(model.parameters())
        for step in range(steps):
            loss = torch.nn.functional.mse_loss(model(inputs).squeeze(-1), targets)
            optimiser.zero_grad()
            loss.backward()
            if skip and step % skip == 0:
                model[0].bias.grad = None
            optimiser.step()
        results.append([p.detach().clone() for p in model.parameters()])
    return results[0], results[1]


@pytest.mark.parametrize(("weight_decay", "skip"), [(0.0, 0), (0.1, 0), (0.0, 3)])
def test_matches_torch_adam(weight_decay, skip):
    ours, reference = trajectories(weight_decay, skip=skip)
    for mine, theirs in zip(ours, reference, strict=True):
        assert torch.equal(mine, theirs)  # the same floats: each parameter's update is the same ops
    assert any(not torch.equal(p, q) for p, q in zip(ours, small_mlp().parameters(), strict=True))  # it moved


def test_defaults_match_torch_adam():
    param = [torch.nn.Parameter(torch.zeros(1))]
    ours, theirs = Adam(param), torch.optim.Adam(param).defaults
    assert (ours.lr, ours.betas, ours.eps, ours.weight_decay) == (
        theirs["lr"], theirs["betas"], theirs["eps"], theirs["weight_decay"])


def test_training_never_imports_dynamo():
    # torch.optim's optimisers import torch._dynamo (about 1 s) when built; training must not pay for it.
    code = (
        "import sys, torch\n"
        "from benchmark.reward_model import RewardMLP, train_bradley_terry\n"
        "model = RewardMLP(4, 8, 2)\n"
        "index = torch.tensor([0, 1])\n"
        "train_bradley_terry(model, torch.randn(3, 4), index, index + 1, torch.tensor([1, 0]), steps=3, lr=0.01)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
