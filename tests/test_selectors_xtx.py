"""`xtx` (the reference XtX_rule) against autograd of log det(Σ_k w_k v_k v_kᵀ + εI) at w = 1."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from benchmark.selectors import DOptimalSelector
from tests.test_dopt import autograd_scores, make_context


@pytest.mark.parametrize("eps", [1e-6, 0.1])
def test_xtx_score_is_the_unweighted_logdet_gradient(eps):
    context = make_context()
    selector = DOptimalSelector(eps=eps, weighted=False)
    ours = selector.scores(context).numpy()
    # At θ = 0 every p(1−p) is 1/4: log det(¼(Σ w vvᵀ + εI)) has the same w-gradient as the unweighted one.
    flat = replace(context, head=torch.zeros_like(context.head))
    reference = autograd_scores(flat, eps / 4, past_aware=False)
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
    assert set(selector.select(context, 7)) == set(np.argsort(-reference)[:7])


def test_xtx_ignores_the_head_and_differs_from_dopt():
    context = make_context()
    flat = replace(context, head=torch.zeros_like(context.head))
    xtx = DOptimalSelector(weighted=False)
    torch.testing.assert_close(xtx.scores(context), xtx.scores(flat), rtol=1e-12, atol=0)
    assert not torch.allclose(xtx.scores(context), DOptimalSelector().scores(context))
