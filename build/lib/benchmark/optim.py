"""Adam without ``torch.optim``: every ``torch.optim`` optimiser imports ``torch._dynamo`` when it is built
(about 1 s, more than a quick run's whole training), and the reward head needs only plain Adam.

The update is torch's single-tensor Adam (the path ``torch.optim.Adam`` takes on CPU) with the same defaults,
L2-style ``weight_decay`` (added to the gradient) included, op for op, so results match it exactly there.
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
        beta1, beta2 = self.betas
        for index, (param, first, second) in enumerate(zip(self.params, self.first, self.second, strict=True)):
            if param.grad is None:
                continue
            self.steps[index] += 1
            step_size = self.lr / (1 - beta1 ** float(self.steps[index]))
            correction2_sqrt = (1 - beta2 ** float(self.steps[index])) ** 0.5
            grad = param.grad if self.weight_decay == 0 else param.grad.add(param, alpha=self.weight_decay)
            first.lerp_(grad, 1 - beta1)
            second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            param.addcdiv_(first, (second.sqrt() / correction2_sqrt).add_(self.eps), value=-step_size)
