"""Adam without ``torch.optim``: every ``torch.optim`` optimiser imports ``torch._dynamo`` when it is built
(about 1 s, more than a quick run's whole training), and the reward head needs only plain Adam.

The update is torch's single-tensor Adam (the path ``torch.optim.Adam`` takes on CPU) with the same defaults,
L2-style ``weight_decay`` (added to the gradient) included, op for op, so results match it exactly there. Each op
is issued once for all parameters that share a step count (``torch._foreach_*``): on CPU those run the same
per-tensor kernels in a C++ loop, so the floats are the same while a small head's step pays a seventh of the
dispatches (7 per step instead of 7 per parameter tensor).
"""

from collections.abc import Iterable

import torch


class Adam:
    """Adam (Kingma & Ba, 2015) over ``params``: ``zero_grad()`` and ``step()`` as in ``torch.optim``."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.steps = [0] * len(self.params)  # per parameter: one without a gradient is not stepped
        self.first = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.second = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self) -> None:
        by_step: dict[int, list[int]] = {}  # parameters stepped together: those with a gradient and equal counts
        for index, param in enumerate(self.params):
            if param.grad is not None:
                self.steps[index] += 1
                by_step.setdefault(self.steps[index], []).append(index)
        for step, indices in by_step.items():
            self._update(step, indices)

    def _update(self, step: int, indices: list[int]) -> None:
        beta1, beta2 = self.betas
        params = [self.params[i] for i in indices]
        first, second = [self.first[i] for i in indices], [self.second[i] for i in indices]
        grads = [param.grad for param in params]
        if self.weight_decay != 0:
            grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        step_size = self.lr / (1 - beta1 ** float(step))
        correction2_sqrt = (1 - beta2 ** float(step)) ** 0.5
        torch._foreach_lerp_(first, grads, 1 - beta1)
        torch._foreach_mul_(second, beta2)
        torch._foreach_addcmul_(second, grads, grads, value=1 - beta2)
        denominators = torch._foreach_sqrt(second)
        torch._foreach_div_(denominators, correction2_sqrt)
        torch._foreach_add_(denominators, self.eps)
        torch._foreach_addcdiv_(params, first, denominators, value=-step_size)
