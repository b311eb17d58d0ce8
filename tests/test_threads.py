"""The thread rule, and that the thread count never changes results."""

import torch

from benchmark import threads
from benchmark.config import instantiate_checked
from benchmark.reward_model import LinearHead, RewardMLP
from benchmark.runner import run_experiment
from benchmark.spec import RunSpec
from tests.conftest import compose_config


def test_requested_wins_then_launcher_then_work_size():
    large = threads.SMALL_WORK * 10
    assert threads.choose_threads(3, large, parallel_launcher=True) == 3
    assert threads.choose_threads(None, large, parallel_launcher=True) == 1
    assert threads.choose_threads(None, threads.SMALL_WORK - 1, parallel_launcher=False) == 1
    assert threads.choose_threads(None, large, parallel_launcher=False) == threads.DEFAULT_THREADS


def test_forward_work_counts_every_layer():
    assert RewardMLP(64, width=8, layers=3).multiply_adds(10) == 10 * (64 * 8 + 2 * 8 * 8)
    assert RewardMLP(64, width=8, layers=0).multiply_adds(10) == 10 * 64 == LinearHead(64).multiply_adds(10)


def test_outside_a_hydra_job_there_is_no_parallel_launcher():
    assert not threads.under_parallel_launcher()


def test_apply_threads_sizes_the_run_and_honours_a_number():
    data = instantiate_checked(compose_config().dataset, "dataset")  # TINY data: D = 16, K = 10
    small = RunSpec.from_config(compose_config())  # work 120 × (16·16 + 2·16²) responses × multiply-adds
    large = RunSpec.from_config(compose_config("reward_model.width=512", "prompts_per_round=100"))  # 1000 × 5.3e5
    before = torch.get_num_threads()
    try:
        assert threads.apply_threads(None, small, data) == 1 == torch.get_num_threads()
        assert threads.apply_threads(None, large, data) == threads.DEFAULT_THREADS == torch.get_num_threads()
        assert threads.apply_threads(2, small, data) == 2 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def test_metrics_are_byte_identical_at_one_and_two_threads(tmp_path):
    before = torch.get_num_threads()
    try:
        texts = []
        for count in (1, 2):
            run_experiment(compose_config(f"torch_threads={count}"), tmp_path / f"threads{count}")
            texts.append((tmp_path / f"threads{count}" / "metrics.jsonl").read_bytes())
    finally:
        torch.set_num_threads(before)
    assert texts[0] == texts[1] and texts[0].count(b"\n") == 3
