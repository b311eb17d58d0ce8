"""Synthetic embeddings that behave like LLM embeddings, with a known golden reward.

Each embedding is ``mean + prompt part + response part + noise``: the prompt part is shared by all
responses to a prompt, both parts live in random subspaces with a decaying (anisotropic) spectrum.
The golden reward is a fixed nonlinear function of the embedding: a response-quality term plus a
per-prompt offset that is itself a function of the prompt part, so cross-prompt labels are learnable.
A test split whose prompts lie outside the train prompts' range (``eval.split=prompt_shift``) moves the latent
prompt part along a fixed direction (:class:`PromptShift`) and keeps everything else of the test split.
Arrays are generated in fixed chunks of prompts (deterministic for a seed, whatever the number of
prompts) and streamed into memory-mapped files in the authors' layout, then cached. A chunk holds at
most ``CHUNK_VALUES`` values, so generating the paper's 2,000 × 500 × 2,048 test set takes a few hundred
MB of RAM, not the array's size. Where the cache cannot be written the same values are generated into
memory instead (the cache is an optimisation, never a failure; benchmark/cache.py).
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmark.cache import unusable
from benchmark.config import Count, NonNegative
from benchmark.data.arrays import PreferenceData
from benchmark.data.files import commit_split, create_split, discard_split, open_split, split_paths
from benchmark.data.validate import check_rewards
from benchmark.errors import UserError
from benchmark.memory import Part, check_allocation

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2  # 2: chunks capped by CHUNK_VALUES (unchanged data where K·D ≤ 16,384)
CHUNK_PROMPTS = 1024
CHUNK_VALUES = 1 << 24  # embedding values per generated chunk: 128 MB per float64 temporary
HIDDEN_UNITS = 32
SHIFT_STREAM = 3  # the seed stream of PromptShift's direction (0: the world, 1: train, 2: test)


@dataclass(frozen=True)
class SyntheticWorld:
    """The fixed random parts shared by train and test: subspaces, spectra and the reward function."""

    mean: np.ndarray  # (D,)
    prompt_map: np.ndarray  # (dp, D): latent prompt -> embedding
    response_map: np.ndarray  # (dr, D)
    prompt_reader: np.ndarray  # (D, dp): embedding -> whitened prompt coordinates
    response_reader: np.ndarray  # (D, dr)
    quality_in: np.ndarray  # (dr, m)
    quality_bias: np.ndarray  # (m,)
    quality_out: np.ndarray  # (m,)
    quality_linear: np.ndarray  # (dr,)
    interaction: np.ndarray  # (dp, dr): how the prompt shifts what a good response is
    offset_in: np.ndarray  # (dp, m)
    offset_bias: np.ndarray  # (m,)
    offset_out: np.ndarray  # (m,)
    offset_scale: float

    @classmethod
    def create(
        cls, dim: int, prompt_rank: int, response_rank: int, spectrum_decay: float,
        interaction: float, offset_scale: float, seed: int,
    ) -> "SyntheticWorld":
        if prompt_rank + response_rank > dim:
            raise ValueError(
                f"prompt_rank + response_rank = {prompt_rank + response_rank} exceeds dim={dim}; lower "
                "dataset.prompt_rank / dataset.response_rank or raise model.dim"
            )
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        basis, _ = np.linalg.qr(rng.standard_normal((dim, prompt_rank + response_rank)))
        prompt_basis, response_basis = basis[:, :prompt_rank], basis[:, prompt_rank:]
        prompt_scales = 1.5 * np.arange(1, prompt_rank + 1) ** -spectrum_decay
        response_scales = np.arange(1, response_rank + 1) ** -spectrum_decay
        m = HIDDEN_UNITS
        return cls(
            mean=rng.standard_normal(dim) * 2.0 / np.sqrt(dim),
            prompt_map=(prompt_basis * prompt_scales).T,
            response_map=(response_basis * response_scales).T,
            prompt_reader=prompt_basis / prompt_scales,
            response_reader=response_basis / response_scales,
            quality_in=rng.standard_normal((response_rank, m)) * 1.5 / np.sqrt(response_rank),
            quality_bias=rng.standard_normal(m) * 0.5,
            quality_out=rng.standard_normal(m) / np.sqrt(m),
            quality_linear=rng.standard_normal(response_rank) * 0.5 / np.sqrt(response_rank),
            interaction=rng.standard_normal((prompt_rank, response_rank)) * interaction / np.sqrt(prompt_rank),
            offset_in=rng.standard_normal((prompt_rank, m)) * 1.5 / np.sqrt(prompt_rank),
            offset_bias=rng.standard_normal(m) * 0.5,
            offset_out=rng.standard_normal(m) / np.sqrt(m),
            offset_scale=offset_scale,
        )

    def reward(self, embeddings: np.ndarray) -> np.ndarray:
        """Golden reward of embeddings (..., D): a fixed function of the embedding alone.

        Works on the rows flattened to 2D: numpy's stacked (3D) matmul is one small BLAS call per
        prompt, tens of times slower at D = 2048.
        """
        centred = embeddings.reshape(-1, embeddings.shape[-1]).astype(np.float64)
        centred -= self.mean
        prompt = centred @ self.prompt_reader
        response = centred @ self.response_reader + prompt @ self.interaction
        quality = np.tanh(response @ self.quality_in + self.quality_bias) @ self.quality_out
        quality += response @ self.quality_linear
        offset = np.tanh(prompt @ self.offset_in + self.offset_bias) @ self.offset_out
        return (quality + self.offset_scale * offset).reshape(embeddings.shape[:-1])

    def sample(
        self, rng: np.random.Generator, prompts: int, responses: int, noise: float, shift: "PromptShift | None" = None
    ) -> np.ndarray:
        """Embeddings (prompts, responses, D) of fresh prompts and responses, the prompts moved by ``shift`` if given.

        Summed in place, in the order (mean + prompt) + response + jitter, so only two full-size
        float64 arrays exist at once.
        """
        dim = self.mean.shape[0]
        latent = rng.standard_normal((prompts, self.prompt_map.shape[0]))
        prompt = (latent if shift is None else shift.apply(latent)) @ self.prompt_map
        out = rng.standard_normal((prompts * responses, self.response_map.shape[0])) @ self.response_map
        out = out.reshape(prompts, responses, dim)
        out += self.mean + prompt[:, None, :]
        jitter = rng.standard_normal((prompts, responses, dim))
        jitter *= noise / np.sqrt(dim)
        out += jitter
        return out


@dataclass(frozen=True)
class PromptShift:
    """Test prompts outside the train prompts' range: each latent prompt's coordinate along a fixed unit direction
    u is moved from g to ``distance`` + |g|, the rest of it kept.

    Train prompts' latent components are standard normal, so their coordinate along u is N(0, 1) and only a share
    1 − Φ(distance) of them (0.13 % at 3) reaches as far as every shifted prompt. The direction is drawn from the
    dataset's seed on a stream of its own, so the world, the train and the test split are the ones of an unshifted
    dataset; the shifted split reuses the test split's draws, so its responses are the test responses' own.
    """

    direction: np.ndarray  # (dp,), unit length
    distance: float

    @classmethod
    def create(cls, prompt_rank: int, distance: float, seed: int) -> "PromptShift":
        rng = np.random.default_rng(np.random.SeedSequence([seed, SHIFT_STREAM]))
        direction = rng.standard_normal(prompt_rank)
        return cls(direction / np.linalg.norm(direction), distance)

    def apply(self, latent: np.ndarray) -> np.ndarray:
        along = latent @ self.direction
        return latent + np.outer(self.distance + np.abs(along) - along, self.direction)


def load_synthetic(
    name: str = "synthetic",
    dim: int | None = 64,
    train_prompts: Count = 2000,
    train_responses: Count = 10,
    test_prompts: Count = 200,
    test_responses: Count = 50,
    prompt_rank: Count = 16,
    response_rank: Count = 16,
    spectrum_decay: float = 0.5,
    interaction: float = 0.5,
    offset_scale: float = 1.0,
    noise: NonNegative = 0.1,
    dtype: str = "float32",
    seed: int = 0,
    cache_dir: str = "~/.cache/arm-bench",
    generate: bool = True,
    test_shift: float | None = None,
) -> PreferenceData:
    """Open the cached dataset for these parameters, generating it first if needed (or failing if not ``generate``).

    ``test_shift``: the test split's prompts moved out of the train prompts' range by :class:`PromptShift` of that
    distance (``eval.split=prompt_shift`` passes ``eval.shift``); it is a file of its own beside the others, whose
    cache key it leaves unchanged.
    """
    if dim is None:
        raise UserError(
            "the synthetic dataset needs model.dim (model=custom takes D from embedding files); "
            "use model=synthetic, model=synthetic2048 or set model.dim=<D>"
        )
    params = {k: v for k, v in locals().items() if k not in ("name", "cache_dir", "generate", "test_shift")}
    key = hashlib.sha1(json.dumps({**params, "version": GENERATOR_VERSION}, sort_keys=True).encode()).hexdigest()
    cache = Path(cache_dir).expanduser()
    root = cache / f"synthetic-{key[:16]}"
    world = SyntheticWorld.create(dim, prompt_rank, response_rank, spectrum_decay, interaction, offset_scale, seed)
    shift = None if test_shift is None else PromptShift.create(prompt_rank, test_shift, seed)
    test_name = "test" if shift is None else f"test-shift{test_shift:g}"
    splits = {"train": (train_prompts, train_responses, None, "train"),
              "test": (test_prompts, test_responses, shift, test_name)}
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    files: list[Path] = []
    for split_index, (split, (prompts, responses, moved, file_name)) in enumerate(splits.items(), start=1):
        paths = split_paths(root, "synthetic", "synthetic", "default", file_name)
        fill = _Fill(world, prompts, responses, noise, dtype, seed, split_index, moved)
        arrays[split], cached = _open_or_generate(fill, paths, cache, generate)
        files += cached
    source = f"the synthetic dataset (seed={seed})"
    check_rewards(arrays["train"][1], arrays["test"][1], source, source,
                  "change dataset.seed or the generator's parameters")
    return PreferenceData(name, *arrays["train"], *arrays["test"], files=tuple(files))


@dataclass(frozen=True)
class _Fill:
    """How to generate one split, chunk by chunk, into any pair of (N, K, D) and (N, K, 1) arrays."""

    world: SyntheticWorld
    prompts: int
    responses: int
    noise: float
    dtype: str
    seed: int
    split_index: int
    shift: PromptShift | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.prompts, self.responses, self.world.mean.shape[0]

    def into(self, embeddings: np.ndarray, rewards: np.ndarray, label: str) -> None:
        dim = self.shape[2]
        step = max(1, min(CHUNK_PROMPTS, CHUNK_VALUES // (self.responses * dim)))
        starts = range(0, self.prompts, step)
        for chunk, start in enumerate(tqdm(starts, desc=f"generating {label}", disable=len(starts) < 8)):
            count = min(step, self.prompts - start)
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.split_index, chunk]))
            block = self.world.sample(rng, count, self.responses, self.noise, self.shift).astype(self.dtype)
            embeddings[start : start + count] = block
            rewards[start : start + count, :, 0] = self.world.reward(block)

    def in_memory(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and rewards (N, K) in RAM: the same values the cached files would hold."""
        values = int(np.prod(self.shape))
        check_allocation(Part(f"synthetic {label} generated in memory", values * np.dtype(self.dtype).itemsize,
                              "make cache_dir (or ARM_BENCH_CACHE) a writable folder", on_device=False))
        embeddings = np.empty(self.shape, dtype=self.dtype)
        rewards = np.empty((*self.shape[:2], 1), dtype=np.float32)
        log.info("generating %s in memory (%.1f MiB), since the cache cannot be written", label,
                 embeddings.nbytes / 2**20)
        self.into(embeddings, rewards, label)
        return embeddings, rewards[..., 0]


def _open_or_generate(
    fill: "_Fill", paths: tuple[Path, Path], cache: Path, generate: bool
) -> tuple[tuple[np.ndarray, np.ndarray], list[Path]]:
    """One split's embeddings and rewards (N, K), from the cache, generated into it first if missing, or generated
    into memory where the cache cannot be written; and the cache files read (none from memory)."""
    embd_path, reward_path = paths
    if not (embd_path.exists() and reward_path.exists()):
        if not generate:
            raise UserError(f"{embd_path} is missing and generate=False; ++dataset.generate=true generates it")
        try:
            _write_split(fill, embd_path, reward_path)
        except OSError as err:
            unusable(cache, err)
            return fill.in_memory(embd_path.name), []
    return (open_split(embd_path), np.asarray(open_split(reward_path))[..., 0]), [embd_path, reward_path]


def _write_split(fill: _Fill, embd_path: Path, reward_path: Path) -> None:
    """Generate into the cache; on an OSError no partial file is left behind."""
    try:
        embeddings = create_split(embd_path, fill.shape, fill.dtype)
        rewards = create_split(reward_path, (*fill.shape[:2], 1), "float32")
        fill.into(embeddings, rewards, embd_path.name)
        commit_split(embeddings, embd_path)
        commit_split(rewards, reward_path)
    except OSError:
        discard_split(embd_path)
        discard_split(reward_path)
        raise
