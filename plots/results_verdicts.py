"""The results page's numbers and verdicts: each claim of docs/method.md §8, computed from the runs' statistics.

Every comparison is paired by seed (runs with one seed share prompts, initial batch and label noise) and shown with
its Student-t interval (plots.intervals). A verdict reads a *family* of comparisons — claim (a): one method against
every other selector in one setting; (b): cross − in for every selector; (c): small − large batch for every
selector — and "significant" means significant after Holm's correction over that family, so the chance of any
false "significant" in it stays at most 5 % (13 unadjusted tests at 5 % would expect 0.65 false ones per case).
The intervals themselves are the unadjusted 95 % ones.

Verdicts: **supported** (the significant differences go the paper's way as the claim's rule asks), **not
supported** (too few of them: absence of evidence at this many seeds, not evidence against), **contradicted** (a
significant difference the other way), **not tested** (the runs to test it are missing).
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from plots.cost import COST, with_cost
from plots.curves import BASELINE, SPEARMAN
from plots.intervals import Interval, holm_significant, paired_p_value, t_interval
from plots.loading import settings
from plots.style import PAPER_METHODS
from plots.tables import AUC_SPEARMAN, FINAL_SPEARMAN, markdown_table

IN_PROMPT, CROSS_PROMPT = "in_prompt", "cross_prompt"
SUPPORTED, NOT_SUPPORTED, CONTRADICTED, NOT_TESTED = "supported", "not supported", "contradicted", "not tested"
#: The example price ratio of claim (b) at equal cost.
EXAMPLE_COST = {"in_prompt": 1.0, "cross_prompt": 2.0}
WORDING = (f"**{SUPPORTED}**: the significant differences go the paper's way as the claim's rule asks; "
           f"**{NOT_SUPPORTED}**: too few significant differences at this many seeds, which is absence of evidence, "
           f"not evidence against; **{CONTRADICTED}**: a significant difference the other way. Significant means "
           "after Holm's correction over the family of comparisons each verdict reads (named with it), at 5 %; the "
           "intervals shown are the unadjusted 95 % ones.")


@dataclass(frozen=True)
class Sweep:
    """One sweep's runs and everything the page says about them."""

    name: str
    frame: pd.DataFrame  # benchmark.load_runs rows of its finished runs
    table: pd.DataFrame  # plots.tables.summary_table
    stats: pd.DataFrame  # per run: plots.tables.run_statistics plus the setup/batch labels and batch.size
    bon_key: str
    images: list[Any]
    summary: dict[str, Any] | None  # its sweep_summary.json

    @property
    def seeds(self) -> int:
        return int(self.stats["seed"].nunique())


@dataclass(frozen=True)
class Comparison:
    """A paired difference over seeds, its p value and whether it is significant after Holm over its family."""

    interval: Interval
    p: float
    significant: bool

    @property
    def lower(self) -> bool:
        """Significantly below 0 (better, for 1 − ρ)."""
        return self.significant and bool(self.interval.mean < 0)

    @property
    def higher(self) -> bool:
        return self.significant and bool(self.interval.mean > 0)


@dataclass(frozen=True)
class DeltaPanel:
    """One panel of a claim's Δ figure: a paired difference with its interval per selector."""

    title: str
    label: str  # the x axis
    rows: list[tuple[str, Comparison]]


@dataclass(frozen=True)
class Claim:
    text: str
    verdict: str
    panels: list[DeltaPanel]


def family(wide: pd.DataFrame, pairs: Mapping[Hashable, tuple[Any, Any]]) -> dict[Hashable, Comparison]:
    """``first − second`` of a seeds × cases table for each named pair (over the seeds both have), Holm over all.

    Pairs without a common seed are left out."""
    intervals, p_values = {}, {}
    for key, (first, second) in pairs.items():
        if not {first, second} <= set(wide.columns):
            continue
        both = wide[[first, second]].dropna()
        if len(both):
            differences = (both[first] - both[second]).to_numpy()
            intervals[key], p_values[key] = t_interval(differences), paired_p_value(differences)
    significant = holm_significant(p_values)
    return {key: Comparison(intervals[key], p_values[key], significant[key]) for key in intervals}


def number(value: float) -> str:
    return f"{float(value):.3f}"


def with_interval(interval: Interval) -> str:
    """'−0.012 [−0.020, −0.004]': the mean and its t interval (no bracket for one seed)."""
    text = number(interval.mean)
    return text if np.isnan(interval.low) else f"{text} [{number(interval.low)}, {number(interval.high)}]"


def table_interval(row: pd.Series, key: str) -> Interval:
    """A summary-table statistic (``<key>_mean``/``_low``/``_high``) as an Interval."""
    return Interval(*(np.float64(row[f"{key}_{part}"]) for part in ("mean", "low", "high")), int(row["seeds"]))


def count(n: int, noun: str) -> str:
    """'1 seed', '5 seeds'."""
    return f"{n} {noun}{'s' * (n != 1)}"


def overall(verdicts: Sequence[str]) -> str:
    """One verdict from several cases: any contradiction wins, then supported only if every case is."""
    if not verdicts:
        return NOT_TESTED
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    return SUPPORTED if all(v == SUPPORTED for v in verdicts) else NOT_SUPPORTED


def listed(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


def claim_dopt(sweep: Sweep) -> Claim:
    """Claim (a): D-opt and past-aware D-opt beat the other selectors, per setting, by AUC of 1 − ρ."""
    methods = [m for m in PAPER_METHODS if m in set(sweep.stats["selector"])]
    text = ("**(a) D-opt vs the other selectors.** Paper: D-opt and past-aware D-opt are more label-efficient than "
            "the selectors from the deep-learning and classical literature (Figure 3). Here, by the area under the "
            "curve (AUC) of 1 − ρ, lower is better: ")
    if not methods:
        return Claim(text + f"no D-opt runs in {sweep.name}. Verdict: **{NOT_TESTED}**.", NOT_TESTED, [])
    sentences, verdicts, panels = [], [], []
    for setting in settings(sweep.frame):
        wide = sweep.stats[sweep.stats["setting"] == setting].pivot(index="seed", columns="selector",
                                                                    values=AUC_SPEARMAN)
        others = [s for s in wide.columns if s not in PAPER_METHODS]
        table = sweep.table[sweep.table["setting"] == setting].set_index("selector")
        for method in [m for m in methods if m in wide.columns]:
            diffs = family(wide, {other: (method, other) for other in others})
            verdict, sentence = dopt_case(setting, method, table, others, diffs)
            verdicts.append(verdict)
            sentences.append(sentence)
            if method == PAPER_METHODS[0]:
                panels.append(DeltaPanel(f"(a) {setting}", f"Δ AUC 1−ρ, {method} − selector (< 0: {method} better)",
                                         sorted(diffs.items(), key=lambda item: float(item[1].interval.mean))))
    rule = (f"a case is {SUPPORTED} when the method is significantly better than random and than at least half of "
            f"the other selectors and significantly worse than none, {CONTRADICTED} when some selector (or random) "
            f"is significantly better, and {NOT_SUPPORTED} otherwise; the family of each case is the method against "
            "every other selector (the two D-opt methods excluded)")
    verdict = overall(verdicts)
    return Claim(text + "; ".join(sentences) + f". Verdict: **{verdict}** ({rule}; "
                 f"{count(sweep.seeds, 'seed')}, paired by seed).", verdict, panels)


def dopt_case(setting: str, method: str, table: pd.DataFrame, others: list[str],
              diffs: dict[Hashable, Comparison]) -> tuple[str, str]:
    """One (setting, method) case of claim (a): its verdict and its sentence."""
    beats = [o for o in others if o in diffs and diffs[o].lower]
    beaten_by = [o for o in others if o in diffs and diffs[o].higher]
    tied = [o for o in others if o not in beats and o not in beaten_by]
    baseline = diffs.get(BASELINE)
    if beaten_by:
        verdict = CONTRADICTED
    elif baseline is not None and baseline.lower and 2 * len(beats) >= len(others):
        verdict = SUPPORTED
    else:
        verdict = NOT_SUPPORTED
    row = table.loc[method]
    delta = (f"its paired Δ AUC vs random is {with_interval(table_interval(row, 'delta_' + AUC_SPEARMAN))}"
             if f"delta_{AUC_SPEARMAN}_mean" in row and not np.isnan(row[f"delta_{AUC_SPEARMAN}_mean"])
             else "there are no random runs to pair it with")
    sentence = (f"in {setting}, `{method}` ranks {row['rank']} of {len(table)} selectors (AUC "
                f"{with_interval(table_interval(row, AUC_SPEARMAN))}); {delta}; after Holm over its "
                f"{len(diffs)} comparisons it is significantly better than {len(beats)} of the {len(others)} other "
                "selectors" + (f", not separated from {listed(tied)}" if tied else "")
                + (f", significantly worse than {listed(beaten_by)}" if beaten_by else "") + f" ({verdict})")
    return verdict, sentence


def claim_cross(sweep: Sweep) -> Claim:
    """Claim (b): cross-prompt pairs beat in-prompt pairs, per selector, by AUC of 1 − ρ (cross − in, by seed)."""
    text = ("**(b) Cross-prompt vs in-prompt pairs.** Paper: cross-prompt comparisons significantly enhance "
            "labelling efficiency over in-prompt ones (Figure 5). ")
    if not {IN_PROMPT, CROSS_PROMPT} <= set(sweep.stats["setup"]):
        return Claim(text + f"Not both setups in {sweep.name}. Verdict: **{NOT_TESTED}**.", NOT_TESTED, [])
    wide = sweep.stats.pivot(index="seed", columns=["selector", "setup"], values=AUC_SPEARMAN)
    selectors = sorted(set(sweep.stats["selector"]))
    diffs = family(wide, {s: ((s, CROSS_PROMPT), (s, IN_PROMPT)) for s in selectors})
    order = sorted(diffs, key=lambda s: float(diffs[s].interval.mean))
    lower = [s for s in order if diffs[s].interval.mean < 0]
    gains, losses = [s for s in order if diffs[s].lower], [s for s in order if diffs[s].higher]
    cap = sweep.frame["candidates_per_round"].iloc[0] if "candidates_per_round" in sweep.frame else None
    pools = "" if cap is None or pd.isna(cap) else f" from pools of the same size ({int(cap)} pairs per round)"
    dopt = diffs.get("dopt")
    if (dopt is not None and dopt.higher) or len(losses) > len(gains):
        verdict = CONTRADICTED
    elif (dopt is None or dopt.lower) and len(gains) > len(losses):
        verdict = SUPPORTED
    else:
        verdict = NOT_SUPPORTED
    mean = wide.mean()
    on_dopt = (f" For `dopt` the AUC is {number(mean[('dopt', IN_PROMPT)])} in-prompt and "
               f"{number(mean[('dopt', CROSS_PROMPT)])} cross-prompt, Δ (cross − in) "
               f"{with_interval(dopt.interval)}." if dopt is not None else " There are no `dopt` runs.")
    text += (f"Here, with both pair types drawn{pools}, the AUC of 1 − ρ is lower with cross-prompt pairs for "
             f"{len(lower)} of {len(order)} selectors; after Holm over the {len(order)} selectors it is "
             f"significantly lower for {len(gains)} ({listed(gains)}) and significantly higher for {len(losses)} "
             f"({listed(losses)}).{on_dopt} Verdict: **{verdict}** ({SUPPORTED} when cross-prompt is significantly "
             f"better for `dopt` and for more selectors than it is significantly worse; {CONTRADICTED} when it is "
             f"significantly worse for `dopt` or for more selectors than better; {count(sweep.seeds, 'seed')}, "
             "paired by seed).")
    text += equal_cost_sentence(sweep)
    rows = [[f"`{s}`", number(mean[(s, IN_PROMPT)]), number(mean[(s, CROSS_PROMPT)]),
             with_interval(diffs[s].interval) + (" *" if diffs[s].significant else "")] for s in order]
    table = markdown_table(["selector", "AUC 1−ρ in-prompt", "AUC 1−ρ cross-prompt",
                            "Δ cross − in [95 % CI] (* Holm-significant)"], rows)
    panel = DeltaPanel("(b) cross − in prompt", "Δ AUC 1−ρ, cross − in (< 0: cross-prompt better)",
                       [(s, diffs[s]) for s in order])
    return Claim(text + "\n\n" + table, verdict, [panel])


def equal_cost_sentence(sweep: Sweep) -> str:
    """Claim (b) again at equal annotation cost, cross-prompt pairs priced at :data:`EXAMPLE_COST` (plots.cost):
    1 − ρ of each run at the largest cost every run reached (linear between rounds), cross − in by seed, Holm."""
    if "batch_cross_prompt_fraction" not in sweep.frame:
        return ""
    frame = with_cost(sweep.frame, EXAMPLE_COST)
    budget = float(frame.groupby("run")[COST].max().min())
    at_budget = {run: float(np.interp(budget, rows[COST], rows[SPEARMAN]))
                 for run, rows in frame.sort_values(["run", COST]).groupby("run")}
    stats = sweep.stats.assign(at_cost=[at_budget[run] for run in sweep.stats.index])
    wide = stats.pivot(index="seed", columns=["selector", "setup"], values="at_cost")
    diffs = family(wide, {s: ((s, CROSS_PROMPT), (s, IN_PROMPT)) for s in sorted(set(stats["selector"]))})
    gains = [s for s, d in diffs.items() if d.lower]
    losses = [s for s, d in diffs.items() if d.higher]
    lower = sum(1 for d in diffs.values() if d.interval.mean < 0)
    ratio = EXAMPLE_COST["cross_prompt"] / EXAMPLE_COST["in_prompt"]
    return (f" **At equal cost**, pricing a cross-prompt pair at {ratio:g}× an in-prompt one (an example ratio: the "
            "annotator reads two prompts instead of one; `arm-bench-plot --x cost --cost in_prompt=1,cross_prompt=2` "
            f"draws it), 1 − ρ at a cost of {budget:,.0f} (the most every run reached) is lower with cross-prompt "
            f"pairs for {lower} of {len(diffs)} selectors; after Holm it is significantly lower for {len(gains)} "
            f"({listed(gains)}) and significantly higher for {len(losses)} ({listed(losses)}).")


def claim_batch(sweep: Sweep) -> Claim:
    """Claim (c): small batches beat large ones at equal labels: final 1 − ρ, smallest − largest batch, by seed."""
    text = ("**(c) Small vs large batches.** Paper: smaller annotation batches with more frequent retraining are "
            "more label-efficient (Figure 4). ")
    stats = sweep.stats
    sizes = sorted(int(s) for s in stats["batch.size"].unique())
    if len(sizes) < 2:
        return Claim(text + f"Only one batch size in {sweep.name}. Verdict: **{NOT_TESTED}**.", NOT_TESTED, [])
    small, large = sizes[0], sizes[-1]
    labels = sorted(int(n) for n in stats["n_labels"].unique())
    wide = stats.pivot(index="seed", columns=["selector", "batch.size"], values=FINAL_SPEARMAN)
    selectors = sorted(set(stats["selector"]))
    diffs = family(wide, {s: ((s, small), (s, large)) for s in selectors})
    rows = [[f"`{s}`", str(size), with_interval(t_interval(at[FINAL_SPEARMAN].to_numpy())),
             with_interval(t_interval(at[AUC_SPEARMAN].to_numpy()))]
            for s in selectors for size in sizes
            for at in [stats[(stats["selector"] == s) & (stats["batch.size"] == size)]] if len(at)]
    dopt = diffs.get("dopt")
    verdict = (NOT_TESTED if dopt is None else SUPPORTED if dopt.lower else CONTRADICTED if dopt.higher
               else NOT_SUPPORTED)
    equal = f"all end at {labels[0]} labels" if len(labels) == 1 else f"end at {', '.join(map(str, labels))} labels"
    deltas = "; ".join(f"`{s}` {with_interval(d.interval)}{' *' if d.significant else ''}" for s, d in diffs.items())
    text += (f"Here batches of {', '.join(map(str, sizes))} pairs per round {equal}, for {listed(selectors)} "
             f"(§8 names random, D-opt and past-aware D-opt). Final 1 − ρ with batch {small} minus with "
             f"batch {large}, paired by seed (negative = the small batch is better; * significant after Holm over the "
             f"{len(diffs)} selectors): {deltas}. Verdict: **{verdict}** (from `dopt`'s difference: {SUPPORTED} when "
             f"significantly negative, {CONTRADICTED} when significantly positive; {count(sweep.seeds, 'seed')}). "
             "The AUC also counts that a large batch retrains less often, so it is shown but the verdict uses the "
             "final value at equal labels.")
    panel = DeltaPanel(f"(c) batch {small} − {large}", f"Δ final 1−ρ, batch {small} − {large} (< 0: small better)",
                       sorted(diffs.items(), key=lambda item: float(item[1].interval.mean)))
    return Claim(text + "\n\n" + markdown_table(["selector", "batch", "final 1−ρ [95 % CI]", "AUC 1−ρ [95 % CI]"],
                                                rows), verdict, [panel])


def toy_sentence(sweep: Sweep) -> str:
    """Which selectors reach the lowest final 1 − ρ on the 2D toy."""
    table = sweep.table.sort_values(f"{FINAL_SPEARMAN}_mean").reset_index(drop=True)
    best = table.head(3)
    named = [f"`{row['selector']}` ({with_interval(table_interval(row, FINAL_SPEARMAN))})"
             for _, row in best.iterrows()]
    places = [f"`{name}` ranks {place + 1} of {len(table)} ({number(table.loc[place, f'{FINAL_SPEARMAN}_mean'])})"
              for name in ("dopt", BASELINE) if name not in set(best["selector"])
              for place in table.index[table["selector"] == name]]
    return (f"On the 2D toy ({count(sweep.seeds, 'seed')}), the lowest final 1 − ρ is reached by {', '.join(named)}"
            + (f"; {' and '.join(places)}" if places else "") + ".")
