"""``make results`` (``python -m plots.results_page``): the suite's own results page, docs/results.md, in one command.

It runs the three results sweeps through the real CLI (finished runs are skipped, so a rerun only redraws), draws
each with the plotting code and writes the page: how to reproduce it, the wall time the sweeps took, the figures,
the summary tables, and one paragraph per claim of the paper (docs/method.md §8) whose numbers and verdict are
computed from the run folders, so the page cannot drift from the runs it was built from. Full-size figures, PDFs
and CSVs go to ``<root>/plots/<sweep>``; only small PNGs go to docs/results/, since those are committed.

Every comparison is paired by seed (runs with one seed share prompts, initial batch and label noise) and uses the
Student-t interval of plots.intervals; "significant" means that interval excludes 0.
"""

import argparse
import io
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.errors import UserError
from benchmark.outputs import atomic_write_bytes, atomic_write_json, atomic_write_text
from benchmark.sweep import SUMMARY_FILE
from plots import cli
from plots.curves import BASELINE
from plots.intervals import LEVEL, Interval, t_interval
from plots.loading import final_rows, settings
from plots.tables import (
    AUC_SPEARMAN,
    FINAL_SPEARMAN,
    markdown_table,
    run_statistics,
    target_spearman,
    to_markdown,
)

SYNTHETIC, BATCH, TOY = "results_synthetic", "results_batch", "results_toy"
SWEEPS = (SYNTHETIC, BATCH, TOY)
TIMING_FILE = "results_timing.json"
MAX_PNG_BYTES = 300_000
CLAIMED = ("dopt", "pastaware_dopt")  # the paper's methods
IN_PROMPT, CROSS_PROMPT = "in_prompt", "cross_prompt"
AGREES, DISAGREES, NOT_TESTED = "agrees", "does not agree", "not tested"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m plots.results_page", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*",
                        help="Hydra overrides for every sweep, e.g. seed=0,1 selector=random,entropy,dopt (a trial)")
    parser.add_argument("--root", type=Path, default=Path("outputs/results"),
                        help="where the sweeps write their runs, full-size plots and the timing file")
    parser.add_argument("--skip-sweeps", action="store_true", help="only draw and write the page from the runs")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 instead of the sweeps' 5 (adds seed=range(N))")
    parser.add_argument("--page", type=Path, default=Path("docs/results.md"), help="the page to write")
    parser.add_argument("--figures", type=Path, default=Path("docs/results"), help="folder of the page's PNGs")
    args = parser.parse_args(argv)
    bad = [text for text in args.overrides if "=" not in text]
    if bad:
        parser.error(f"{' '.join(bad)}: an override is key=value, e.g. seed=0,1")
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error(f"--seeds {args.seeds}: give at least 1")
        args.overrides.append(f"seed=range({args.seeds})")
    return args


# ---- running the sweeps -------------------------------------------------------------------------------------------

def sweep_folder(root: Path, name: str) -> Path:
    return root / "multirun" / name


def sweep_command(name: str, root: Path, overrides: Sequence[str]) -> list[str]:
    """The documented CLI call, from the same environment as this Python."""
    executable = Path(sys.executable).with_name("arm-bench")
    return [str(executable), "-m", f"+sweep={name}", "hydra/launcher=joblib", "logger=none",
            f"output_root={root}", *overrides]


def machine() -> dict[str, Any]:
    """Cores this process may use and the CPU model, as the page reports them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    return {"cores": cores, "cpu": cpu}


def read_timing(root: Path) -> dict[str, Any]:
    path = root / TIMING_FILE
    return json.loads(path.read_text()) if path.exists() else {"sweeps": {}}


def runs_computed_since(folder: Path, started: float) -> int:
    """Run folders that trained a round since ``started``: a skipped finished run writes no metrics."""
    return sum(1 for path in folder.rglob("metrics.jsonl") if path.stat().st_mtime >= started)


def run_sweeps(root: Path, overrides: Sequence[str]) -> None:
    """Run each sweep; add its wall time to ``<root>/results_timing.json`` when it computed something, so a rerun
    that only skips finished runs keeps the time of the runs that did the work."""
    timing = read_timing(root)
    for name in SWEEPS:
        command = sweep_command(name, root, overrides)
        print("+ " + " ".join(command), flush=True)
        started = time.time()
        code = subprocess.run(command, check=False).returncode
        elapsed = time.time() - started
        summary = sweep_folder(root, name) / SUMMARY_FILE
        if code != 0 and not (code == 1 and summary.exists() and summary.stat().st_mtime >= started):
            raise UserError(f"sweep {name} stopped with exit code {code} before finishing its jobs (see its "
                            "message above); fix that and rerun")
        computed = runs_computed_since(sweep_folder(root, name), started)
        print(f"{name}: {elapsed / 60:.1f} min, {computed} run(s) computed", flush=True)
        if computed:
            entry = timing["sweeps"].setdefault(name, {"seconds": 0.0, "runs_computed": 0})
            entry.update(seconds=entry["seconds"] + elapsed, runs_computed=entry["runs_computed"] + computed,
                         overrides=list(overrides))
            timing.update(machine())
            atomic_write_json(root / TIMING_FILE, timing)


# ---- drawing -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    """One sweep's runs and everything the page says about them."""

    name: str
    frame: pd.DataFrame  # benchmark.load_runs rows of its finished runs
    table: pd.DataFrame  # plots.tables.summary_table
    stats: pd.DataFrame  # per run: plots.tables.run_statistics plus the setup/batch labels and batch.size
    bon_key: str
    images: list[Path]
    summary: dict[str, Any] | None  # its sweep_summary.json

    @property
    def seeds(self) -> int:
        return int(self.stats["seed"].nunique())


def shrink_png(source: Path, target: Path, limit: int = MAX_PNG_BYTES) -> Path:
    """Copy ``source`` to ``target`` as a 256-colour PNG, scaled down until it is at most ``limit`` bytes: plot
    colours are few, so the palette loses nothing visible, and the committed file stays small."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    while True:
        buffer = io.BytesIO()
        image.quantize(256).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= limit or image.width < 600:
            break
        scale = 0.95 * (limit / buffer.tell()) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    atomic_write_bytes(target, buffer.getvalue())
    return target


def draw(root: Path, name: str, figures: Path) -> Sweep:
    """arm-bench-plot --paired into ``<root>/plots/<name>``, small copies of its PNGs into ``figures/<name>``, and the
    numbers the page needs."""
    folder = sweep_folder(root, name)
    if not folder.is_dir():
        raise UserError(f"{folder} does not exist: run `make results` without --skip-sweeps, or pass the --root "
                        "the sweeps wrote to")
    drawn = cli.run(cli.parse_args([str(folder), "--out", str(root / "plots" / name), "--paired"]))
    (figures / name).mkdir(parents=True, exist_ok=True)
    for old in (figures / name).glob("*.png"):
        old.unlink()
    images = [shrink_png(path, figures / name / path.name) for path in drawn.written if path.suffix == ".png"]
    frame, bon_key = drawn.frame, drawn.bon_key
    stats = run_statistics(frame, bon_key, target_spearman(frame, None)[0])
    stats = stats.join(final_rows(frame)[["setup", "batch", "batch.size", "n_labels"]])
    summary_path = folder / SUMMARY_FILE
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Sweep(name, frame, drawn.table, stats, bon_key, images, summary)


# ---- numbers and verdicts ------------------------------------------------------------------------------------------

def difference(wide: pd.DataFrame, first: str, second: str) -> Interval | None:
    """``first − second`` columns of a seeds × cases table, over the seeds both have; None without one."""
    both = wide[[first, second]].dropna() if {first, second} <= set(wide.columns) else wide.iloc[:0]
    return t_interval((both[first] - both[second]).to_numpy()) if len(both) else None


def better(interval: Interval | None) -> bool:
    """Significantly lower (better, for 1 − ρ)."""
    return interval is not None and bool(interval.high < 0)


def worse(interval: Interval | None) -> bool:
    return interval is not None and bool(interval.low > 0)


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


def inconclusive(seeds: int) -> str:
    return f"inconclusive at {count(seeds, 'seed')}"


def overall(verdicts: Sequence[str], seeds: int) -> str:
    """One verdict from several cases: any disagreement wins, then agreement only if every case agrees."""
    if not verdicts:
        return NOT_TESTED
    if DISAGREES in verdicts:
        return DISAGREES
    return AGREES if all(v == AGREES for v in verdicts) else inconclusive(seeds)


def listed(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) or "none"


def claim_dopt(sweep: Sweep) -> str:
    """Claim (a): D-opt and past-aware D-opt beat the other selectors, per setup, by AUC of 1 − ρ."""
    methods = [m for m in CLAIMED if m in set(sweep.stats["selector"])]
    text = ("**(a) D-opt vs the other selectors.** Paper: D-opt and past-aware D-opt are more label-efficient than "
            "the selectors from the deep-learning and classical literature (Figure 3). Here, by the area under the "
            "curve (AUC) of 1 − ρ, lower is better: ")
    if not methods:
        return text + f"no D-opt runs in {SYNTHETIC}. Verdict: **{NOT_TESTED}**."
    sentences, verdicts = [], []
    for setting in settings(sweep.frame):
        rows = sweep.stats[sweep.stats["setting"] == setting]
        wide = rows.pivot(index="seed", columns="selector", values=AUC_SPEARMAN)
        others = [s for s in wide.columns if s not in CLAIMED]
        table = sweep.table[sweep.table["setting"] == setting].set_index("selector")
        for method in [m for m in methods if m in wide.columns]:
            diffs = {other: difference(wide, method, other) for other in others}
            beats = [o for o in others if better(diffs[o])]
            beaten_by = [o for o in others if worse(diffs[o])]
            tied = [o for o in others if o not in beats and o not in beaten_by]
            if beaten_by or worse(diffs.get(BASELINE)):
                verdict = DISAGREES
            elif better(diffs.get(BASELINE)) and 2 * len(beats) >= len(others):
                verdict = AGREES
            else:
                verdict = inconclusive(sweep.seeds)
            verdicts.append(verdict)
            row = table.loc[method]
            delta = (f"its paired Δ AUC vs random is {with_interval(table_interval(row, 'delta_' + AUC_SPEARMAN))}"
                     if f"delta_{AUC_SPEARMAN}_mean" in row and not np.isnan(row[f"delta_{AUC_SPEARMAN}_mean"])
                     else "there are no random runs to pair it with")
            sentences.append(
                f"in {setting}, `{method}` ranks {row['rank']} of {len(table)} selectors (AUC "
                f"{with_interval(table_interval(row, AUC_SPEARMAN))}); {delta}; it is significantly better than "
                f"{len(beats)} of the {len(others)} other selectors"
                + (f", not separated from {listed(tied)}" if tied else "")
                + (f", significantly worse than {listed(beaten_by)}" if beaten_by else "") + f" ({verdict})")
    rule = ("a case agrees when the method is significantly better than random and than at least half of the other "
            "selectors and significantly worse than none, does not agree when some selector (or random) is "
            "significantly better, and is inconclusive otherwise")
    return (text + "; ".join(sentences) + f". Verdict: **{overall(verdicts, sweep.seeds)}** ({rule}; other "
            f"selectors exclude the two D-opt methods; {count(sweep.seeds, 'seed')}, paired by seed).")


def claim_cross(sweep: Sweep) -> str:
    """Claim (b): cross-prompt pairs beat in-prompt pairs, per selector, by AUC of 1 − ρ (cross − in, by seed)."""
    text = ("**(b) Cross-prompt vs in-prompt pairs.** Paper: cross-prompt comparisons significantly enhance "
            "labelling efficiency over in-prompt ones (Figure 5). ")
    if not {IN_PROMPT, CROSS_PROMPT} <= set(sweep.stats["setup"]):
        return text + f"Not both setups in {SYNTHETIC}. Verdict: **{NOT_TESTED}**."
    wide = sweep.stats.pivot(index=["selector", "seed"], columns="setup", values=AUC_SPEARMAN)
    diffs = {selector: difference(group, CROSS_PROMPT, IN_PROMPT) for selector, group in wide.groupby(level="selector")}
    order = sorted((s for s in diffs if diffs[s] is not None), key=lambda s: float(diffs[s].mean))
    lower = [s for s in order if diffs[s].mean < 0]
    gains, losses = [s for s in order if better(diffs[s])], [s for s in order if worse(diffs[s])]
    cap = sweep.frame["candidates_per_round"].iloc[0] if "candidates_per_round" in sweep.frame else None
    pools = "" if cap is None or pd.isna(cap) else f" from pools of the same size ({int(cap)} pairs per round)"
    dopt = diffs.get("dopt")
    if worse(dopt) or len(losses) > len(gains):
        verdict = DISAGREES
    elif (dopt is None or better(dopt)) and len(gains) > len(losses):
        verdict = AGREES
    else:
        verdict = inconclusive(sweep.seeds)
    on_dopt = (f" For `dopt` the AUC is {number(wide.loc['dopt', IN_PROMPT].mean())} in-prompt and "
               f"{number(wide.loc['dopt', CROSS_PROMPT].mean())} cross-prompt, Δ (cross − in) "
               f"{with_interval(dopt)}." if dopt is not None else " There are no `dopt` runs.")
    text += (f"Here, with both pair types drawn{pools}, the AUC of 1 − ρ is lower with cross-prompt pairs for "
             f"{len(lower)} of {len(order)} selectors, significantly for {len(gains)} ({listed(gains)}), and "
             f"significantly higher for {len(losses)} ({listed(losses)}).{on_dopt} Verdict: **{verdict}** (agrees "
             "when cross-prompt is significantly better for `dopt` and for more selectors than it is significantly "
             "worse; does not agree when it is significantly worse for `dopt` or for more selectors than better; "
             f"{count(sweep.seeds, 'seed')}, paired by seed).")
    rows = [[f"`{s}`", number(wide.loc[s, IN_PROMPT].mean()), number(wide.loc[s, CROSS_PROMPT].mean()),
             with_interval(diffs[s]) + (" *" if better(diffs[s]) or worse(diffs[s]) else "")] for s in order]
    return text + "\n\n" + markdown_table(
        ["selector", "AUC 1−ρ in-prompt", "AUC 1−ρ cross-prompt", "Δ cross − in [95 % CI]"], rows)


def claim_batch(sweep: Sweep) -> str:
    """Claim (c): small batches beat large ones at equal labels: final 1 − ρ, smallest − largest batch, by seed."""
    text = ("**(c) Small vs large batches.** Paper: smaller annotation batches with more frequent retraining are "
            "more label-efficient (Figure 4). ")
    stats = sweep.stats
    sizes = sorted(int(s) for s in stats["batch.size"].unique())
    if len(sizes) < 2:
        return text + f"Only one batch size in {BATCH}. Verdict: **{NOT_TESTED}**."
    small, large = sizes[0], sizes[-1]
    labels = sorted(int(n) for n in stats["n_labels"].unique())
    diffs, rows = {}, []
    for selector, group in stats.groupby("selector"):
        wide = group.pivot(index="seed", columns="batch.size", values=FINAL_SPEARMAN)
        diffs[selector] = difference(wide, small, large)
        for size in sizes:
            at = group[group["batch.size"] == size]
            rows.append([f"`{selector}`", str(size), with_interval(t_interval(at[FINAL_SPEARMAN].to_numpy())),
                         with_interval(t_interval(at[AUC_SPEARMAN].to_numpy()))])
    dopt = diffs.get("dopt")
    verdict = (NOT_TESTED if dopt is None else AGREES if better(dopt) else DISAGREES if worse(dopt)
               else inconclusive(sweep.seeds))
    equal = f"all end at {labels[0]} labels" if len(labels) == 1 else f"end at {', '.join(map(str, labels))} labels"
    deltas = "; ".join(f"`{s}` {with_interval(d)}" for s, d in diffs.items() if d is not None)
    text += (f"Here batches of {', '.join(map(str, sizes))} pairs per round {equal}. Final 1 − ρ with batch {small} "
             f"minus with batch {large}, paired by seed (negative = the small batch is better): {deltas}. Verdict: "
             f"**{verdict}** (from `dopt`'s difference: agrees when significantly negative, does not agree when "
             f"significantly positive; {count(sweep.seeds, 'seed')}). The AUC also counts that a large batch retrains "
             "less often, so it is shown but the verdict uses the final value at equal labels.")
    return text + "\n\n" + markdown_table(["selector", "batch", "final 1−ρ [95 % CI]", "AUC 1−ρ [95 % CI]"], rows)


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


SYNTHETIC_DATA = """\
*This paragraph is hand-written, not generated from the runs.* The synthetic data
(`benchmark/data/synthetic.py`, sizes in `conf/dataset/synthetic.yaml` and `conf/model/synthetic.yaml`) is a cheap
stand-in with a known answer. Each embedding is a shared mean, plus a prompt component that all responses to a
prompt share, plus a response component, each living in its own random low-rank subspace (rank 16 by default) with
singular values falling as j^−0.5 (an anisotropic spectrum), plus small isotropic noise, in D = 64 dimensions. The
golden reward is a fixed nonlinear function of the embedding: a response-quality term (a one-hidden-layer tanh
network of 32 units plus a linear part) on the response coordinates, shifted by a prompt-dependent interaction, plus
a per-prompt offset that is itself a tanh network of the prompt component, so rewards vary within and across
prompts and cross-prompt labels are learnable. Labels are noisy Bradley-Terry draws from it, and each train prompt
has K = 10 responses, as in the paper. What carries over is the structure the paper's comparisons rest on: shared
prompt components (so in-prompt and cross-prompt pairs differ), a reward the MLP head can only approximate, and
label noise. What does not: real LLM embeddings have 2,048–4,096 dimensions and are known to be far more
anisotropic (a few directions and outlier dimensions dominate) than low rank plus Gaussian noise; the golden reward
there is a separate reward model reading the text (GPT2-large for Harmless, Gemma-7B for Helpful), so it is not an
exact function of the embedding and part of it cannot be learnt from it; and the paper trains on 40,000 prompts
with 500 prompts per round, a 10,000-label budget and 500 test responses per prompt, where these sweeps use the
quick preset (2,000 train prompts, 100 per round, 1,000 labels after 125, 50 test responses per prompt, head
width 64). Selectors whose advantage depends on the geometry of the feature space (D-opt, coreset, k-center) may
rank differently on real embeddings; agreement here shows the mechanism works on data with this structure, not
that the paper's figures are reproduced (those need `fig3_in_prompt`, `fig4_batch_size` and `fig5_cross_prompt`
on the real embeddings)."""


# ---- the page ------------------------------------------------------------------------------------------------------

def relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


def shown(path: Path) -> str:
    """``path`` relative to the current folder when inside it (the repository), so the page names no machine."""
    resolved = path.resolve()
    return relative(resolved, Path.cwd()) if resolved.is_relative_to(Path.cwd().resolve()) else str(path)


def grid_line(sweep: Sweep) -> str:
    runs = sweep.stats
    expected = (sweep.summary or {}).get("expected_jobs")
    of = f" of {expected} expected" if expected else ""
    return (f"`{sweep.name}`: {count(len(runs), 'finished run')}{of}: {count(runs['selector'].nunique(), 'selector')}"
            f" × {count(runs['setting'].nunique(), 'setting')} ({', '.join(settings(sweep.frame))}) × "
            f"{count(sweep.seeds, 'seed')}")


def timing_text(timing: dict[str, Any]) -> str:
    entries = timing.get("sweeps", {})
    if not entries:
        return ("The wall time was not recorded: these runs were not computed by `make results` into this root "
                f"(`{TIMING_FILE}` is missing).")
    total = sum(e["seconds"] for e in entries.values()) / 60
    parts = ", ".join(f"`{name}` {e['seconds'] / 60:.1f} min for {e['runs_computed']} runs"
                      for name, e in entries.items())
    return (f"The sweeps took {total:.1f} min of wall time on {timing.get('cores', '?')} cores "
            f"({timing.get('cpu', 'unknown CPU')}), with `hydra/launcher=joblib` (one job per core, one torch "
            f"thread each): {parts}. Reruns that only skip finished runs are not counted.{drawing_text(timing, total)}")


def drawing_text(timing: dict[str, Any], sweep_minutes: float) -> str:
    """The rest of the whole command's time: drawing and writing the page (measured by this invocation)."""
    seconds = timing.get("drawing_seconds")
    if seconds is None:
        return ""
    return (f" Drawing the figures and tables and writing this page took {seconds:.0f} s, so the whole command "
            f"takes about {sweep_minutes + seconds / 60:.1f} min when it computes every run.")


def failures_text(sweeps: Sequence[Sweep]) -> str:
    lines = [f"- `{s.name}/{job['run']}` ({job['status']}): {job.get('reason')}"
             for s in sweeps for job in (s.summary or {}).get("failed", [])]
    if not lines:
        return "No job failed."
    return ("**Failed jobs** (left out of every number below; rerunning `make results` retries only them):\n\n"
            + "\n".join(lines))


def demoted(markdown: str, levels: int) -> str:
    """plots.tables' Markdown without its title, its headings ``levels`` deeper, to sit inside this page."""
    lines = markdown.splitlines()[1:]
    return "\n".join("#" * levels + line if line.startswith("#") else line for line in lines).strip()


def reduced_note(timing: dict[str, Any]) -> str:
    overrides = sorted({o for e in timing.get("sweeps", {}).values() for o in e.get("overrides", [])})
    if not overrides:
        return ""
    return (f"> **Reduced trial.** These runs were made with the overrides `{' '.join(overrides)}`, not the full "
            "grid of the sweep files; run `make results` without ARGS for the page's real numbers.\n\n")


def render_page(sweeps: dict[str, Sweep], timing: dict[str, Any], root: Path, page: Path) -> str:
    figures = "\n\n".join(f"**{name}**\n\n" + "\n\n".join(
        f"![{name} {image.stem}]({relative(image, page.parent)})" for image in sweep.images)
        for name, sweep in sweeps.items())
    tables = "\n\n".join(f"### {name}\n\n{demoted(to_markdown(s.table, s.bon_key, LEVEL), 2)}"
                         for name, s in sweeps.items())
    return f"""# Results measured with the sweeps

*Generated by `make results` (`python -m plots.results_page`) from the run folders under `{shown(root)}`: do not
edit by hand, rerun the command. Numbers are means over seeds with 95 % Student-t intervals in brackets; Δ are
paired by seed. The claims are those of [method.md §8](method.md#8-claims-the-suite-tests).*

{reduced_note(timing)}## Reproduce

```bash
make results                          # runs the three sweeps (finished runs are skipped), draws, writes this page
make results ARGS="--skip-sweeps"     # redraws the page from the runs already there
make results ARGS="--root outputs/trial seed=0,1 selector=random,entropy,dopt"   # a reduced trial
```

Each sweep is `arm-bench -m +sweep=<name> hydra/launcher=joblib logger=none output_root={shown(root)}`, then
`arm-bench-plot <root>/multirun/<name> --paired`; full-size figures, PDFs and CSVs are in `{shown(root)}/plots/`.

{chr(10).join('- ' + grid_line(s) for s in sweeps.values())}

{timing_text(timing)}

{failures_text(list(sweeps.values()))}

## Claims

{claim_dopt(sweeps[SYNTHETIC])}

{claim_cross(sweeps[SYNTHETIC])}

{claim_batch(sweeps[BATCH])}

**The 2D toy.** {toy_sentence(sweeps[TOY])}

**Does the synthetic data stand in for LLM embeddings?** {SYNTHETIC_DATA}

## Figures

{figures}

## Summary tables

{tables}
"""


def build(args: argparse.Namespace) -> Path:
    root = args.root.resolve()
    if not args.skip_sweeps:
        run_sweeps(root, args.overrides)
    started = time.time()
    sweeps = {name: draw(root, name, args.figures) for name in SWEEPS}
    timing = {**read_timing(root), "drawing_seconds": time.time() - started}
    atomic_write_text(args.page, render_page(sweeps, timing, args.root, args.page))
    return args.page


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="results_page: %(message)s")
    try:
        print(build(parse_args(argv)))
    except UserError as err:
        print(f"results_page: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
