"""``make results`` (``python -m plots.results_page``): the suite's own results page, docs/results.md, in one command.

Five modules share the work: ``plots.results_sweeps`` runs the sweeps through the real CLI (finished runs are
skipped, so a rerun only redraws) and records their wall time; ``plots.results_verdicts`` computes the numbers and
verdicts of the paper's claims from the run folders, ``plots.results_checks`` those of the open checks (out of
distribution, head) and ``plots.results_metrics`` the table of the metrics beyond Spearman; this module draws the
figures and renders the page, so the page cannot drift from the runs it was built from. The page holds one section
per dataset of :data:`DATASETS` — each with its claims sweep (every selector, both pair setups), its batch sweep,
its out-of-distribution sweep and its head sweep, read by the same verdict rules — then the 2D toy and the
design-gap check. Full-size figures, PDFs and CSVs go to ``<root>/plots/<sweep>``; only small PNGs
go to docs/results/, since those are committed.
"""

import argparse
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark import design_gap
from benchmark.card import CARD_KEYS, data_card
from benchmark.card_cli import option_data
from benchmark.errors import UserError
from benchmark.outputs import atomic_write_bytes, atomic_write_text
from benchmark.sweep import SUMMARY_FILE
from plots import cli
from plots.curves import choose_metrics
from plots.deltas import delta_figure
from plots.figures import curves_figure
from plots.intervals import LEVEL
from plots.loading import final_rows, settings
from plots.render import save_figure
from plots.results_checks import HEAD, SPLIT, claim_head, claim_ood
from plots.results_metrics import metrics_text
from plots.results_sweeps import TIMING_FILE, read_timing, run_sweeps, sweep_folder
from plots.results_verdicts import WORDING, Claim, Sweep, claim_batch, claim_cross, claim_dopt, count, toy_sentence
from plots.style import PAPER_EIGHT
from plots.tables import run_statistics, target_spearman, to_markdown

TOY = "results_toy"
MAX_PNG_BYTES = 300_000
#: Random pools per setup of the design-gap check (about 7 s per 100 on one core).
DESIGN_GAP_POOLS = 200
#: Drawn in every figure of selectors, as the yardsticks: the baseline and the paper's method.
REFERENCES = ("random", "dopt")
DUELING = ("deltaucb", "infomax", "drts", "maxminlcb", "rucb")


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


REAL_TEXT_DATA = """\
*This paragraph is hand-written, not generated from the runs.* `dataset=real_text` ships with arm-bench
([real_text.md](real_text.md)): 300 train and 50 test ShareGPT prompts, K = 10 (train) and 20 (test) responses
sampled from SmolLM2-135M-Instruct, embedded by the same model (its last layer averaged over the response's tokens,
D = 576), with the relevance of the response to the prompt (all-MiniLM-L6-v2 cosine) as the golden reward. It is
real LLM embeddings of real text with a golden reward from a separate trained model reading the text, as in the
paper, but at a much smaller scale: a 135M model instead of 2–8B, 40-token responses, 300 train prompts instead of
40,000 (100 drawn per round) and 20 test responses per prompt instead of 500 (best-of-N up to 20). Its data card
differs from the synthetic one mostly in how linear the reward is in the embedding (a least-squares probe's test R²
0.38 against 0.93) and in how few of D's directions the embeddings use (effective rank 38 of 576 against 20 of 64);
the prompts' share of the embedding variance and the within- to between-prompt reward spread are alike (real_text.md
lists all statistics). What that does to the verdicts: with a nearly linear reward in few directions, the
synthetic data lets the selectors' differences show (some comparisons are significant after Holm's correction);
on real text the head must learn a non-linear, prompt-dependent reward from 300 prompts, the differences between
selectors are small against the spread across seeds, and a claim that is supported or contradicted on the
synthetic data can be not supported here. Where the two sections' verdicts differ, the synthetic verdict did not
predict the real one."""


@dataclass(frozen=True)
class Dataset:
    """One section of the page: a dataset's four sweeps, read by the same verdict rules."""

    name: str
    title: str
    claims_sweep: str  # every selector, in- and cross-prompt: claims (a) and (b), and the metrics table
    batch_sweep: str  # batch sizes at equal labels: claim (c)
    ood_sweep: str  # random and the paper's methods on the iid and an out-of-distribution split: claim (d)
    head_sweep: str  # random and the paper's methods with each reward head: claim (e)
    note: str  # hand-written: how far this data stands in for the paper's
    option: str | None = None  # the dataset= option, whose card (benchmark/card.py) the section shows

    @property
    def sweeps(self) -> tuple[str, str, str, str]:
        return self.claims_sweep, self.batch_sweep, self.ood_sweep, self.head_sweep


#: The page's datasets, one section each, in this order.
DATASETS = [Dataset("synthetic", "Synthetic data", "results_synthetic", "results_batch", "results_ood", "results_head",
                    SYNTHETIC_DATA, "synthetic"),
            Dataset("real_text", "Real text", "results_real_text", "results_batch_real_text", "results_ood_real_text",
                    "results_head_real_text", REAL_TEXT_DATA, "real_text")]
#: Result-defining keys the claims read per run, beside its labels (the two open checks vary them).
RUN_KEYS = ("batch.size", SPLIT, "eval.shift", "eval.clusters", "eval.held_out", HEAD)


def sweep_names(datasets: Sequence[Dataset]) -> list[str]:
    """Every sweep the page reads: each dataset's four, then the toy."""
    return [name for d in datasets for name in d.sweeps] + [TOY]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m plots.results_page", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("overrides", nargs="*",
                        help="Hydra overrides for every sweep, e.g. seed=0,1 selector=random,entropy,dopt (a trial)")
    parser.add_argument("--root", type=Path, default=Path("outputs/results"),
                        help="where the sweeps write their runs, full-size plots and the timing file")
    parser.add_argument("--skip-sweeps", action="store_true", help="only draw and write the page from the runs")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 instead of the sweeps' 5 (adds seed=range(N))")
    parser.add_argument("--datasets", type=cli.names, default=[d.name for d in DATASETS],
                        help="comma-separated dataset sections to build (default: all)")
    parser.add_argument("--design-gap-pools", type=int, default=DESIGN_GAP_POOLS,
                        help="random pools per setup of the design-gap check")
    parser.add_argument("--page", type=Path, default=Path("docs/results.md"), help="the page to write")
    parser.add_argument("--figures", type=Path, default=Path("docs/results"), help="folder of the page's PNGs")
    args = parser.parse_args(argv)
    bad = [text for text in args.overrides if "=" not in text]
    if bad:
        parser.error(f"{' '.join(bad)}: an override is key=value, e.g. seed=0,1")
    unknown = sorted(set(args.datasets) - {d.name for d in DATASETS})
    if unknown:
        parser.error(f"--datasets {','.join(unknown)}: not a section; choose from "
                     f"{', '.join(d.name for d in DATASETS)}")
    if args.seeds is not None:
        if args.seeds < 1:
            parser.error(f"--seeds {args.seeds}: give at least 1")
        args.overrides.append(f"seed=range({args.seeds})")
    if args.design_gap_pools < 1:
        parser.error(f"--design-gap-pools {args.design_gap_pools}: give at least 1")
    return args


# ---- drawing -------------------------------------------------------------------------------------------------------

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


def figure_groups(table: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Readable figures: the paper's eight plus the best of the rest (by AUC rank, in any setting); the other
    baselines; the dueling selectors. Each also draws :data:`REFERENCES`; the last two only when they have more."""
    present = list(dict.fromkeys(table["selector"]))
    rest = table[~table["selector"].isin(PAPER_EIGHT)]
    best_rest = sorted(set(rest.loc[rest.groupby("setting")["rank"].idxmin(), "selector"])) if len(rest) else []
    groups = [("curves", [s for s in PAPER_EIGHT if s in present] + best_rest),
              ("curves_others", [s for s in present if s not in PAPER_EIGHT and s not in DUELING]),
              ("curves_dueling", [s for s in present if s in DUELING])]
    return [(stem, list(dict.fromkeys([*[r for r in REFERENCES if r in present], *names])))
            for index, (stem, names) in enumerate(groups) if (names if index == 0 else set(names) - set(REFERENCES))]


def group_figures(drawn: cli.Drawn, out: Path) -> list[Path]:
    """One curves figure per group of :func:`figure_groups` (PNG and PDF in ``out``; the first is ``curves``)."""
    metrics = choose_metrics(["spearman", "bon"], drawn.bon_key, drawn.frame)
    written = []
    for stem, names in figure_groups(drawn.table):
        figure = curves_figure(drawn.frame[drawn.frame["selector"].isin(names)], metrics, paired=True)
        written += save_figure(figure, out, stem)
    return written


def draw(root: Path, name: str, figures: Path) -> Sweep:
    """arm-bench-plot --paired into ``<root>/plots/<name>`` (every selector in one figure), the page's grouped
    figures in its ``page/`` folder, small copies of the page's PNGs into ``figures/<name>``, and the numbers the
    page needs."""
    folder = sweep_folder(root, name)
    if not folder.is_dir():
        raise UserError(f"{folder} does not exist: run `make results` without --skip-sweeps, or pass the --root "
                        "the sweeps wrote to")
    out = root / "plots" / name
    drawn = cli.run(cli.parse_args([str(folder), "--out", str(out), "--paired"]))
    shown_paths = group_figures(drawn, out / "page") + [p for p in drawn.written if p.stem.startswith("toy")]
    (figures / name).mkdir(parents=True, exist_ok=True)
    for old in (figures / name).glob("*.png"):
        old.unlink()
    images = [shrink_png(path, figures / name / path.name) for path in shown_paths if path.suffix == ".png"]
    frame, bon_key = drawn.frame, drawn.bon_key
    stats = run_statistics(frame, bon_key, target_spearman(frame, None)[0])
    last = final_rows(frame)
    stats = stats.join(last[["setup", "batch", "n_labels", *(key for key in RUN_KEYS if key in last)]])
    summary_path = folder / SUMMARY_FILE
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Sweep(name, frame, drawn.table, stats, bon_key, images, summary)


def draw_deltas(claims: Sequence[Claim], root: Path, figures: Path, name: str, stem: str = "deltas") -> Path | None:
    """The Δ figure ``stem`` of a dataset's claims (one panel per claim, per setting or condition); None without
    panels."""
    panels = [panel for claim in claims for panel in claim.panels if panel.rows]
    if not panels:
        return None
    (path, *_) = save_figure(delta_figure(panels), root / "plots" / name, stem)
    return shrink_png(path, figures / name / f"{stem}.png")


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
    """A warning naming each sweep whose runs were computed with overrides (a reduced grid)."""
    reduced = {name: e["overrides"] for name, e in timing.get("sweeps", {}).items() if e.get("overrides")}
    if not reduced:
        return ""
    parts = "; ".join(f"`{name}` with `{' '.join(overrides)}`" for name, overrides in reduced.items())
    return (f"> **Reduced trial.** Some runs were made with overrides, not the full grid of the sweep files: {parts}; "
            "run `make results` without ARGS for the page's real numbers.\n\n")


def images_text(sweep: Sweep, page: Path) -> str:
    return "\n\n".join(f"![{sweep.name} {image.stem}]({relative(image, page.parent)})" for image in sweep.images)


def table_text(sweep: Sweep, levels: int) -> str:
    return demoted(to_markdown(sweep.table, sweep.bon_key, LEVEL), levels)


def card_text(option: str | None) -> str:
    """The dataset's card as a one-row table (definitions in docs/real_text.md), or nothing without an option."""
    if option is None:
        return ""
    card = data_card(option_data([f"dataset={option}"]))
    shape = ", ".join(f"{split} {'×'.join(map(str, dims))}" for split, dims in card["shape"].items())
    keys = [k for k in CARD_KEYS if k != "shape"]
    return (f"\n**Its card** (`arm-bench-card dataset={option}`; [definitions](real_text.md#the-card-is-a-dataset-in-"
            f"the-regime-the-method-assumes)), shape {shape}:\n\n| {' | '.join(f'`{k}`' for k in keys)} |\n"
            f"|{'---|' * len(keys)}\n| {' | '.join(f'{card[k]:.3g}' for k in keys)} |\n")


def delta_image(claims: Sequence[Claim], dataset: Dataset, root: Path, figures: Path, page: Path, stem: str) -> str:
    """The Markdown image of the claims' Δ figure ``stem``, drawn into the claims sweep's folders, or nothing."""
    path = draw_deltas(claims, root, figures, dataset.claims_sweep, stem)
    return f"![{dataset.name} {stem}]({relative(path, page.parent)})\n\n" if path else ""


def checks_text(dataset: Dataset, sweeps: dict[str, Sweep], root: Path, figures: Path, page: Path) -> str:
    """The section's claims on the paper's open checks, (d) and (e), with their own Δ figure."""
    checks = [claim_ood(sweeps[dataset.ood_sweep]), claim_head(sweeps[dataset.head_sweep])]
    return f"""### Open checks: out-of-distribution test prompts, the head

{chr(10).join(claim.text + chr(10) for claim in checks)}
**One Δ panel per condition** ((d) per split, (e) per head: `dopt` and `pastaware_dopt` against `random`): a
filled dot is significant after Holm over its panel.

{delta_image(checks, dataset, root, figures, page, "deltas_checks")}"""


def metrics_section(dataset: Dataset, sweeps: dict[str, Sweep]) -> str:
    """The metrics beyond Spearman in the claims sweep (every selector) and in the two open-check sweeps."""
    return "\n\n".join(metrics_text(sweeps[name]) for name in (dataset.claims_sweep, dataset.ood_sweep,
                                                                 dataset.head_sweep))


def sweep_blocks(names: Sequence[str], sweeps: dict[str, Sweep], render: Callable[[Sweep], str], title: str) -> str:
    """Each sweep's ``render``ed block under its ``title`` (a format string of ``name``)."""
    return "\n\n".join(f"{title.format(name=name)}\n\n{render(sweeps[name])}" for name in names)


def dataset_section(dataset: Dataset, sweeps: dict[str, Sweep], root: Path, figures: Path, page: Path) -> str:
    """One dataset's section: its claims with verdicts and their Δ figures, the metrics, its note, figures, tables."""
    claims_sweep = sweeps[dataset.claims_sweep]
    claims = [claim_dopt(claims_sweep), claim_cross(claims_sweep), claim_batch(sweeps[dataset.batch_sweep])]
    return f"""## {dataset.title}

### Claims

{chr(10).join(claim.text + chr(10) for claim in claims)}
**One Δ panel per claim** (claim (a) per setting: every selector against `dopt`; (b) cross − in prompt per
selector; (c) smallest − largest batch per selector): a filled dot is significant after Holm over its panel.

{delta_image(claims, dataset, root, figures, page, "deltas")}{checks_text(dataset, sweeps, root, figures, page)}
### Reward-model metrics beyond Spearman

{metrics_section(dataset, sweeps)}

**Does this data stand in for LLM embeddings?** {dataset.note}
{card_text(dataset.option)}
### Figures

Lines are grouped so each figure stays readable: the paper's eight selectors plus the best of the rest, the other
baselines, and the dueling selectors, each with `random` and `dopt` as yardsticks; every selector keeps one colour
throughout. The all-selector figures are in `{shown(root)}/plots/`.

{sweep_blocks(dataset.sweeps, sweeps, lambda sweep: images_text(sweep, page), "**{name}**")}

### Summary tables

{sweep_blocks(dataset.sweeps, sweeps, lambda sweep: table_text(sweep, 3), "#### {name}")}
"""


def design_gap_section(pools: int) -> str:
    """results_design_gap: how far dopt's top-n batch is from the exact batch D-optimal design."""
    batch = 4
    tables = design_gap.gap_table(pools, batch)
    dopt = {pairing: float(t["dopt"].mean()) for pairing, t in tables.items()}
    close = all(float(pd.Series(t["dopt"]).median()) >= 0.95 for t in tables.values())
    answer = "close to" if close else "not close to"
    means = ", ".join(f"{pairing.name} {value:.3f}" for pairing, value in dopt.items())
    return f"""### results_design_gap

**Open check: how far is D-opt's gradient top-n batch from the exact batch D-optimal design?** The paper scores each
pair by the gradient of log det at the whole pool and takes the top n, a linearisation of the batch design problem.
On pools small enough to enumerate every batch, `python -m benchmark.design_gap --pools {pools} --batch {batch}`
finds the exact optimum of the run's own criterion, log det(λI + labelled Fisher + batch Fisher) (the
`fisher_logdet` diagnostic), and scores each selector's batch (from its YAML) as a fraction of the optimum's
gain; `random` is the exact mean over all batches. Rule: the gradient top-n counts as close to the exact design
when its median fraction is at least 0.95 in both setups. Here `dopt` reaches on average {means} of the optimum:
**{answer} the exact design**. Greedy design on the criterion itself is within (1 − 1/e) of the optimum by
submodularity, and is shown as the yardstick of what a sequential batch reaches.

{design_gap.markdown(tables, batch)}"""


def render_page(datasets: Sequence[Dataset], sweeps: dict[str, Sweep], timing: dict[str, Any], root: Path,
                figures: Path, page: Path, gap: str) -> str:
    toy = sweeps[TOY]
    sections = "\n".join(dataset_section(d, sweeps, root, figures, page) for d in datasets)
    return f"""# Results measured with the sweeps

*Generated by `make results` (`python -m plots.results_page`) from the run folders under `{shown(root)}`: do not
edit by hand, rerun the command. Numbers are means over seeds with 95 % Student-t intervals in brackets; Δ are
paired by seed. The claims are those of [method.md §8](method.md#8-claims-the-suite-tests).*

{reduced_note(timing)}**How to read the verdicts.** {WORDING}

## Reproduce

```bash
make results                          # runs the sweeps (finished runs are skipped), draws, writes this page
make results ARGS="--skip-sweeps"     # redraws the page from the runs already there
make results ARGS="--root outputs/trial seed=0,1 selector=random,entropy,dopt"   # a reduced trial
```

Each sweep is `arm-bench -m +sweep=<name> hydra/launcher=joblib logger=none output_root={shown(root)}`, then
`arm-bench-plot <root>/multirun/<name> --paired`; full-size figures, PDFs and CSVs are in `{shown(root)}/plots/`.

{chr(10).join('- ' + grid_line(s) for s in sweeps.values())}

{timing_text(timing)}

{failures_text(list(sweeps.values()))}

{sections}
## The 2D toy

{toy_sentence(toy)}

{images_text(toy, page)}

{table_text(toy, 2)}

## The paper's open checks

{gap}
"""


def build(args: argparse.Namespace) -> Path:
    root = args.root.resolve()
    datasets = [d for d in DATASETS if d.name in args.datasets]
    names = sweep_names(datasets)
    if not args.skip_sweeps:
        run_sweeps(root, args.overrides, names)
    started = time.time()
    sweeps = {name: draw(root, name, args.figures) for name in names}
    gap = design_gap_section(args.design_gap_pools)
    timing = {**read_timing(root), "drawing_seconds": time.time() - started}
    atomic_write_text(args.page, render_page(datasets, sweeps, timing, args.root, args.figures, args.page, gap))
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
