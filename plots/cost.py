"""Annotation cost per run and round, for ``arm-bench-plot --x cost --cost in_prompt=1,cross_prompt=2``.

Labels are money, and a cross-prompt comparison (two responses to different prompts) may take an annotator longer
than an in-prompt one. The cost is computed at plot time from what each round labelled — it changes no run, so it
is never a result-defining key: round r ≥ 1 adds (n_labels_r − n_labels_{r−1}) pairs, a share f_r of them
cross-prompt (the ``batch_cross_prompt_fraction`` diagnostic), at f_r·c_cross + (1 − f_r)·c_in each. The random
initial batch of round 0 has no diagnostic; it is priced as its setup's pair type (an in-prompt pool holds only
in-prompt pairs; a cross-prompt pool's same-prompt pairs are about (K − 1)/(R − 1), 1 % at the quick preset). Round 0
is the same for every selector at a seed, so that approximation shifts every line of a setting alike.
"""

import numpy as np
import pandas as pd

from benchmark.errors import UserError

PAIR_TYPES = ("in_prompt", "cross_prompt")
COST = "cost"


def parse_costs(text: str) -> dict[str, float]:
    """``in_prompt=1,cross_prompt=2`` -> {"in_prompt": 1.0, "cross_prompt": 2.0}; both types, positive numbers."""
    costs = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            costs[name.strip()] = float(value)
        except ValueError:
            raise UserError(f"--cost {text}: {part!r} is not <pair type>=<number>, e.g. "
                            "in_prompt=1,cross_prompt=2") from None
    if sorted(costs) != sorted(PAIR_TYPES) or not all(np.isfinite(v) and v > 0 for v in costs.values()):
        raise UserError(f"--cost {text}: give a positive cost for each of {', '.join(PAIR_TYPES)}, e.g. "
                        "in_prompt=1,cross_prompt=2")
    return costs


def with_cost(frame: pd.DataFrame, costs: dict[str, float]) -> pd.DataFrame:
    """``frame`` plus a ``cost`` column: the cumulative annotation cost of each run's labels after each round."""
    pairing = frame["setup.pairing"] if "setup.pairing" in frame else frame["setup"]
    initial = np.where(pairing.astype(str) == "in_prompt", 0.0, 1.0)
    fraction = frame["batch_cross_prompt_fraction"].astype(float).to_numpy()
    fraction = np.where(frame["round"].to_numpy() == 0, initial, fraction)
    ordered = frame.assign(_fraction=fraction).sort_values(["run", "n_labels"])
    added = ordered.groupby("run")["n_labels"].diff().fillna(ordered["n_labels"])
    price = ordered["_fraction"] * costs["cross_prompt"] + (1 - ordered["_fraction"]) * costs["in_prompt"]
    ordered[COST] = (added * price).groupby(ordered["run"]).cumsum()
    return ordered.drop(columns="_fraction").loc[frame.index]
