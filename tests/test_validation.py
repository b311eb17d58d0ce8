"""Every numeric knob and the device are checked before anything is loaded: one line naming key, value and fix."""

import pytest
import torch
from omegaconf import OmegaConf

import benchmark.config  # noqa: F401  registers the structured schema that conf/config.yaml names
from benchmark import validation
from benchmark.config import Count, NonNegative, declared_bounds
from benchmark.errors import UserError
from benchmark.spec import RunSpec
from benchmark.validation import MAX_SEED, check_dataset_numbers, check_device, check_numbers, leaves
from tests.conftest import compose_config

#: (overrides, a regex the error must match).
BAD_NUMBERS = {
    "NaN lr": (["reward_model.lr=nan"], r"^reward_model\.lr=nan is not a finite number; set a finite value"),
    "inf lr": (["reward_model.lr=inf"], r"^reward_model\.lr=inf is not a finite number"),
    "zero lr": (["reward_model.lr=0"], r"^reward_model\.lr=0\.0 must be positive$"),
    "negative lr": (["reward_model.lr=-0.1"], r"^reward_model\.lr=-0\.1 must be positive$"),
    "NaN weight decay": (["reward_model.weight_decay=nan"], r"^reward_model\.weight_decay=nan is not a finite"),
    "negative weight decay": (["reward_model.weight_decay=-1e-4"], r"^reward_model\.weight_decay=-0\.0001 must be"),
    "NaN beta": (["annotator.beta=nan"], r"^annotator\.beta=nan is not a finite number"),
    "-inf beta": (["annotator.beta=-inf"], r"^annotator\.beta=-inf is not a finite number"),
    "zero beta": (["annotator.beta=0"], r"^annotator\.beta=0 makes every label a coin flip; use beta>0"),
    "inf scale": (["annotator.scale=inf"], r"^annotator\.scale=inf is not a finite number"),
    "zero scale": (["annotator.scale=0"], r"^annotator\.scale=0\.0 must be positive \(null = std"),
    "negative scale": (["annotator.scale=-1"], r"^annotator\.scale=-1\.0 must be positive"),
    "negative seed": (["seed=-1"], r"^seed=-1 must be zero or positive$"),
    "seed beyond 63 bits": ([f"seed={MAX_SEED + 1}"], r"^seed=9223372036854775808 exceeds 2\*\*63-1"),
    "zero threads": (["torch_threads=0"], r"^torch_threads=0 must be positive$"),
    "absurd threads": (["torch_threads=100000"], r"^torch_threads=100000 exceeds 4 x this machine's \d+ cores"),
    "zero batch": (["batch.size=0"], r"^batch\.size=0 must be positive$"),
    "negative budget": (["budget=-20"], r"^budget=-20 must be positive$"),
    "zero initial labels": (["initial_labels=0"], r"^initial_labels=0 must be positive$"),
    "zero prompts per round": (["prompts_per_round=0"], r"^prompts_per_round=0 must be positive$"),
    "zero pool cap": (["candidates_per_round=0"], r"^candidates_per_round=0 must be positive, or null"),
    "negative steps": (["reward_model.steps=-5"], r"^reward_model\.steps=-5 must be zero or positive$"),
    "zero model dim": (["model.dim=0"], r"^model\.dim=0 must be positive$"),
    "zero BoN N": (["eval.bon_n=[5,0]"], r"^eval\.bon_n\[1\]=0 must be positive$"),
    "no BoN N": (["eval.bon_n=[]"], r"^eval\.bon_n=\[\] must list at least one N"),
    "zero BoN repeats": (["eval.bon_repeats=0"], r"^eval\.bon_repeats=0 must be positive$"),
    "zero accuracy pairs": (["eval.accuracy_pairs=0"], r"^eval\.accuracy_pairs=0 must be positive$"),
    "zero eval chunk": (["eval.chunk_prompts=0"], r"^eval\.chunk_prompts=0 must be positive$"),
    "zero test prompts": (["eval.test_prompts=0"], r"^eval\.test_prompts=0 must be positive$"),
    "budget not a multiple of batch": (["budget=50"], r"^budget=50 is not a multiple of batch\.size=20.*budget=40"),
    "zero synthetic prompts": (["dataset.train_prompts=0"], r"^dataset\.train_prompts=0 must be positive$"),
    "negative synthetic noise": (["dataset.noise=-0.1"], r"^dataset\.noise=-0\.1 must be zero or positive$"),
    "NaN anywhere in the dataset": (["dataset.spectrum_decay=nan"], r"^dataset\.spectrum_decay=nan is not a finite"),
    "inf in a selector knob": (["selector.eps=inf"], r"^selector\.eps=inf is not a finite number"),
    "NaN in a list": (["+dataset.extra=[1.0,nan]"], r"^dataset\.extra\[1\]=nan is not a finite number"),
}


@pytest.mark.parametrize(("overrides", "match"), BAD_NUMBERS.values(), ids=BAD_NUMBERS.keys())
def test_bad_numbers_are_refused_naming_the_key(overrides, match):
    with pytest.raises(UserError, match=match) as caught:
        check_numbers(compose_config(*overrides))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("override", "match"), [("reward_model.width=0", r"width=0 must be positive$"),
                                               ("reward_model.layers=-1", r"layers=-1 must be zero or positive$")])
def test_the_head_checks_its_own_parameters_before_any_data_loads(override, match):
    with pytest.raises(UserError, match=r"^reward_model \(benchmark\.reward_model\.RewardMLP\): " + match):
        RunSpec.from_config(compose_config(override))


@pytest.mark.parametrize("preset", ["quick", "paper", "paper_scale", "toy"])
def test_shipped_presets_pass(preset):
    check_numbers(compose_config(f"experiment={preset}", tiny=False))


@pytest.mark.parametrize("overrides", [[], ["annotator.beta=-1"], ["annotator.scale=2.5"], ["torch_threads=1"],
                                       ["reward_model.layers=0", "reward_model.steps=0"], [f"seed={MAX_SEED}"],
                                       ["candidates_per_round=null", "eval.test_prompts=3"]])
def test_good_values_pass(overrides):
    check_numbers(compose_config(*overrides))


def test_leaves_name_every_scalar_with_its_dotted_key():
    tree = {"a": {"b": 1, "c": [2.0, {"d": "x"}]}, "e": None}
    assert list(leaves(tree)) == [("a.b", 1), ("a.c[0]", 2.0), ("a.c[1].d", "x"), ("e", None)]


@pytest.fixture
def machine(monkeypatch):
    """Pretend this machine has ``cuda`` CUDA devices and MPS or not."""

    def _machine(cuda: int, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return _machine


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:1", "mps"])
def test_devices_the_machine_has_pass(machine, name):
    machine(cuda=2, mps=True)
    check_device(name)


BAD_DEVICES = {
    "no GPU": ("cuda", 0, r"^reward_model\.device='cuda' but torch sees no CUDA GPU here; use .*auto or cpu$"),
    "no such GPU": ("cuda:2", 2, r"^reward_model\.device='cuda:2' but this machine has 2 CUDA device\(s\), cuda:0 "
                                 r"to cuda:1; pick one"),
    "no MPS": ("mps", 0, r"^reward_model\.device='mps' but the Apple MPS backend is not available here"),
    "unknown": ("tpu9", 0, r"^reward_model\.device='tpu9' is not a torch device; use auto, cpu, cuda, cuda:N or mps$"),
    "cuda with junk": ("cuda:x", 1, r"'cuda:x' is not a torch device"),
    "upper case": ("CPU", 0, r"'CPU' is not a torch device"),
}


@pytest.mark.parametrize(("name", "gpus", "match"), BAD_DEVICES.values(), ids=BAD_DEVICES.keys())
def test_devices_the_machine_lacks_are_refused(machine, name, gpus, match):
    machine(cuda=gpus, mps=False)
    with pytest.raises(UserError, match=match):
        validation.check_device(name)


def load_counted(shots: Count = 3, spread: NonNegative = 0.0, anything: int = 0) -> None:
    """A user's loader: it declares which of its parameters are counts; the checks read only its signature."""


@pytest.mark.parametrize(("values", "match"), [({"shots": 0}, r"^dataset\.shots=0 must be positive$"),
                                               ({"spread": -1.0}, r"^dataset\.spread=-1\.0 must be zero or positive$"),
                                               ({"shots": "many"}, r"^dataset\.shots=many must be a number")])
def test_a_loader_declares_its_own_counts(values, match):
    dataset = OmegaConf.create({"_target_": f"{__name__}.load_counted", **values})
    with pytest.raises(UserError, match=match):
        check_dataset_numbers(dataset)


def test_parameters_a_loader_does_not_bound_are_free():
    check_dataset_numbers(OmegaConf.create({"_target_": f"{__name__}.load_counted", "anything": -5, "spread": 0.0}))
    assert set(declared_bounds(load_counted)) == {"shots", "spread"}
