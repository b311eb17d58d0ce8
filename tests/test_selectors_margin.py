"""`entropy` and `maxdiff` against a sort of explicitly computed reward differences."""

import numpy as np
import pytest

from benchmark.selectors import EntropySelector, MaxDiffSelector
from tests.test_dopt import make_context


def explicit_gaps(context):
    phi, theta = context.features.double().numpy(), context.head.double().numpy()
    return np.abs((phi[context.pool.first] - phi[context.pool.second]) @ theta)


@pytest.mark.parametrize(("selector", "sign"), [(MaxDiffSelector(), -1), (EntropySelector(), 1)])
@pytest.mark.parametrize("n", [1, 6, 30])
def test_margin_selectors_sort_the_reward_gap(selector, sign, n):
    context = make_context(n_pairs=30)
    expected = np.argsort(sign * explicit_gaps(context), kind="stable")[:n]
    np.testing.assert_array_equal(selector.select(context, n), expected)
