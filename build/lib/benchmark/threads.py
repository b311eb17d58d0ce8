"""How many CPU threads torch gets for a run: one for small products, all cores for large ones.

A run's repeated work is the reward MLP's forward and backward pass (``reward_model.steps`` times per
round) over the labelled responses, plus one pass over each round's pool. Its size is

    work = responses × (D·h + (layers − 1)·h²)   multiply-adds of one forward pass,

with ``responses`` the larger of the labelled responses at the end of the run, 2·(initial_labels + budget),
and a round's pool, prompts_per_round·K. Below ``SMALL_WORK`` torch gets 1 thread, else its default (every
core, or ``OMP_NUM_THREADS``). Training dominates, so evaluation (one pass per round) does not count.

Measured on the project's 2-core CPU, median seconds of one training step (forward, loss, backward, Adam) at
1 / 2 threads, three sessions (other jobs running in two of them):

    responses   D     h     work      1 thread     2 threads
    2,250       64    64    2.8e7     3.0–3.3 ms   4.0–22 ms
    20,000      64    64    2.5e8     39–53 ms     23–162 ms
    2,250       2048  64    3.1e8     19–20 ms     14–290 ms
    2,250       64    512   1.2e9     88–92 ms     51–55 ms
    2,250       2048  512   3.5e9     185–193 ms   108–622 ms
    20,000      2048  512   3.2e10    1.9–2.8 s    1.0–2.3 s

Below ~1e8 a second thread never helps (its start-up and barriers cost more than half of a few-ms
product) and costs up to 7× when another process holds a core; from ~2.5e8 up, 2 threads are 1.35–2.3×
faster on a quiet machine. The quick default run (D = 64, h = 64, 2,250 labelled responses, work 2.8e7)
therefore runs on 1 thread and the paper's sizes on all cores.

Under Hydra's joblib launcher several jobs already share the cores, so each job gets 1 thread unless
``torch_threads`` says otherwise; the launcher is recognised from the job's Hydra config
(``hydra.launcher._target_``), which that launcher sets in every worker. An explicit ``torch_threads``
always wins.
"""

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from benchmark.data import PreferenceData
    from benchmark.spec import RunSpec

#: torch's own default (all physical cores, or OMP_NUM_THREADS), read before anything changes it.
DEFAULT_THREADS = torch.get_num_threads()

#: Multiply-adds of one forward pass below which one thread is fastest (see the table above).
SMALL_WORK = 10**8


def forward_work(responses: int, dim: int, width: int, layers: int) -> int:
    """Multiply-adds of one reward-MLP forward pass over ``responses`` rows (D → h, then layers − 1 of h → h)."""
    return responses * (dim * width + max(layers - 1, 0) * width * width) if layers else responses * dim


def under_parallel_launcher() -> bool:
    """True inside a job of Hydra's joblib launcher (jobs run side by side on one machine)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return False
    return "joblib" in str(HydraConfig.get().launcher.get("_target_", "")).lower()


def choose_threads(requested: int | None, work: int, parallel_launcher: bool) -> int:
    """The rule: ``requested`` if given; else 1 under a parallel launcher or for small work; else torch's default."""
    if requested is not None:
        return requested
    if parallel_launcher or work < SMALL_WORK:
        return 1
    return DEFAULT_THREADS


def apply_threads(requested: int | None, spec: "RunSpec", data: "PreferenceData") -> int:
    """Set torch's CPU threads for this run (``torch_threads``; null = the rule above) and return the number."""
    rm = spec.reward_model
    responses = max(2 * (spec.initial_labels + spec.budget), spec.prompts_per_round * data.responses_per_prompt)
    threads = choose_threads(requested, forward_work(responses, data.dim, rm.width, rm.layers),
                             under_parallel_launcher())
    torch.set_num_threads(threads)
    return threads
