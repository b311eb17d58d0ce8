"""The results page's claims on the checks the paper leaves open: (d) out-of-distribution test prompts, (e) the head.

Both ask whether the paper's methods keep their advantage over random in a condition the paper did not test, so both
read the same comparison: each method (D-opt, past-aware D-opt) minus random in AUC of 1 − ρ, paired by seed, with
Holm's correction over the two methods of one condition (plots.results_verdicts.family). A condition is
**supported** when both methods are significantly better than random, **contradicted** when either is significantly
worse, **not supported** otherwise; the claim combines its conditions as claim (a) combines its cases
(plots.results_verdicts.overall).
"""

from collections.abc import Hashable, Sequence
from functools import cache

import numpy as np
from omegaconf import OmegaConf

from benchmark.config import EVAL_SPLITS
from benchmark.paths import CONF_DIR
from plots.curves import BASELINE
from plots.intervals import t_interval
from plots.results_verdicts import (
    CONTRADICTED,
    NOT_SUPPORTED,
    NOT_TESTED,
    SUPPORTED,
    Claim,
    Comparison,
    DeltaPanel,
    Sweep,
    count,
    family,
    overall,
    with_interval,
)
from plots.style import PAPER_METHODS
from plots.tables import AUC_SPEARMAN, markdown_table

#: The result-defining keys the two checks vary (columns of Sweep.stats).
SPLIT, HEAD = "eval.split", "reward_model._target_"
IID = EVAL_SPLITS[0]
RULE = (f"per condition, {SUPPORTED} when both methods' AUC of 1 − ρ is significantly below random's after Holm over "
        f"the two, {CONTRADICTED} when either is significantly above it, {NOT_SUPPORTED} otherwise")


def against_random(sweep: Sweep, key: str, values: Sequence[Hashable]) -> dict[Hashable, dict[str, Comparison]]:
    """Per value of ``key``: each paper method − random in AUC of 1 − ρ on the same seeds, Holm over the methods."""
    comparisons = {}
    for value in values:
        wide = sweep.stats[sweep.stats[key] == value].pivot(index="seed", columns="selector", values=AUC_SPEARMAN)
        comparisons[value] = family(wide, {method: (method, BASELINE) for method in PAPER_METHODS})
    return comparisons


def condition_verdict(comparisons: dict[str, Comparison]) -> str:
    """One condition: both methods significantly better supported, either significantly worse contradicted."""
    if not comparisons:
        return NOT_TESTED
    if any(c.higher for c in comparisons.values()):
        return CONTRADICTED
    lower = [c.lower for c in comparisons.values()]
    return SUPPORTED if len(lower) == len(PAPER_METHODS) and all(lower) else NOT_SUPPORTED


def deltas(comparisons: dict[str, Comparison]) -> str:
    """'`dopt` −0.012 [−0.020, −0.004] *; `pastaware_dopt` ...' (* significant after Holm)."""
    return "; ".join(f"`{method}` {with_interval(c.interval)}{' *' if c.significant else ''}"
                     for method, c in comparisons.items()) or "no runs to compare"


def panels(title: str, names: dict[Hashable, str], comparisons: dict[Hashable, dict[str, Comparison]]) -> list[
        DeltaPanel]:
    return [DeltaPanel(f"{title} {names[value]}", "Δ AUC 1−ρ, method − random (< 0: method better)",
                       sorted(found.items(), key=lambda item: float(item[1].interval.mean)))
            for value, found in comparisons.items() if found]


def table(sweep: Sweep, key: str, label: str, names: dict[Hashable, str],
          comparisons: dict[Hashable, dict[str, Comparison]]) -> str:
    """Per condition and selector (random, then the paper's methods): the AUC and the Δ to random."""
    rows = []
    for value, found in comparisons.items():
        stats = sweep.stats[sweep.stats[key] == value]
        for selector in (BASELINE, *PAPER_METHODS):
            aucs = stats.loc[stats["selector"] == selector, AUC_SPEARMAN].to_numpy()
            if len(aucs):
                delta = found.get(selector)
                shown = "—" if delta is None else with_interval(delta.interval) + (" *" if delta.significant else "")
                rows.append([names[value], f"`{selector}`", with_interval(t_interval(aucs)), shown])
    return markdown_table([label, "selector", "AUC 1−ρ [95 % CI]", "Δ AUC vs random [95 % CI] (* Holm-significant)"],
                          rows)


def split_name(sweep: Sweep, split: str) -> str:
    """What an ``eval.split`` value holds out, with the sweep's own parameters."""
    runs = sweep.stats[sweep.stats[SPLIT] == split]
    if split == "prompt_shift":
        return f"prompt_shift (test prompts at least {float(runs['eval.shift'].iloc[0]):g} std out along a direction)"
    if split == "held_out_clusters":
        return (f"held_out_clusters ({int(runs['eval.held_out'].iloc[0])} of {int(runs['eval.clusters'].iloc[0])} "
                "k-means prompt clusters held out, per seed)")
    return split


def claim_ood(sweep: Sweep) -> Claim:
    """Claim (d): the methods beat random on test prompts from outside the train prompts' range (eval.split)."""
    text = ("**(d) Out-of-distribution test prompts.** Open check (the paper tests on prompts from its train "
            "distribution): do D-opt and past-aware D-opt stay better than random on test prompts from a part of the "
            "prompt distribution the train prompts do not cover ([method.md §6.4](method.md#64-out-of-distribution-"
            "test-prompts))? ")
    present = set(sweep.stats[SPLIT])
    splits = [split for split in EVAL_SPLITS if split in present]
    shifted = [split for split in splits if split != IID]
    if not shifted:
        return Claim(text + f"No out-of-distribution runs in {sweep.name}. Verdict: **{NOT_TESTED}**.", NOT_TESTED, [])
    names = {split: split_name(sweep, split) for split in splits}
    comparisons = against_random(sweep, SPLIT, splits)
    verdicts = {split: condition_verdict(comparisons[split]) for split in shifted}
    verdict = overall(list(verdicts.values()))
    said = "; ".join(f"on the {names[split]} split, Δ AUC 1 − ρ vs random (* significant after Holm over the two) "
                     f"is {deltas(comparisons[split])}" for split in splits)
    text += (f"Here, {said}. Verdict: **{verdict}** ({RULE}; the verdict reads the out-of-distribution split only, the "
             f"{IID} runs of the same sweep, tested on the dataset's own test prompts, are shown for comparison; "
             f"{count(sweep.seeds, 'seed')}, paired by seed).")
    return Claim(text + "\n\n" + table(sweep, SPLIT, "split", {s: s for s in splits}, comparisons), verdict,
                 panels("(d)", {s: s for s in splits}, comparisons))


@cache
def head_options() -> dict[str, str]:
    """``_target_`` -> the ``reward_model=`` option that names it (conf/reward_model/)."""
    return {str(OmegaConf.load(path).get("_target_")): path.stem
            for path in sorted((CONF_DIR / "reward_model").glob("*.yaml"))}


def claim_head(sweep: Sweep) -> Claim:
    """Claim (e): the methods beat random with every reward head (reward_model=mlp, linear)."""
    text = ("**(e) Linear vs MLP head.** Open check: does the advantage hold with a purely linear head (θᵀx on the "
            "raw embedding, where D-opt is the classical D-optimal design for logistic regression) as with the MLP "
            "head whose last layer D-opt reads? ")
    heads = list(dict.fromkeys(sweep.stats[HEAD])) if HEAD in sweep.stats else []
    if len(heads) < 2:
        return Claim(text + f"Only one head in {sweep.name}. Verdict: **{NOT_TESTED}**.", NOT_TESTED, [])
    names = {head: head_options().get(str(head), str(head).rsplit(".", 1)[-1]) for head in heads}
    comparisons = against_random(sweep, HEAD, heads)
    verdicts = {head: condition_verdict(comparisons[head]) for head in heads}
    verdict = overall(list(verdicts.values()))
    stats = sweep.stats[sweep.stats["selector"] == BASELINE]
    random = ", ".join(f"{np.mean(stats.loc[stats[HEAD] == head, AUC_SPEARMAN]):.3f} with the {names[head]} head"
                       for head in heads)
    said = "; ".join(f"with the {names[head]} head ({verdicts[head]}), Δ AUC 1 − ρ vs random (* significant after "
                     f"Holm over the two) is {deltas(comparisons[head])}" for head in heads)
    text += (f"Here, {said}. Random's own AUC of 1 − ρ is {random}. Verdict: **{verdict}** ({RULE}; the claim is "
             f"{SUPPORTED} only when it is with every head, {CONTRADICTED} when it is with any; "
             f"{count(sweep.seeds, 'seed')}, paired by seed).")
    return Claim(text + "\n\n" + table(sweep, HEAD, "head", names, comparisons), verdict,
                 panels("(e) head", names, comparisons))
