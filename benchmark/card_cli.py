"""``arm-bench-card``: print a dataset's card (benchmark/card.py), for embedding files or any ``dataset=`` option.

    arm-bench-card --root DIR --generator G --embedder E --task T [--json FILE]
    arm-bench-card dataset=real_text [more overrides] [--json FILE]

The second form composes arm-bench's own config, so a card describes exactly the data a run with those
overrides reads (a synthetic option is generated, or read from the cache, as a run would).
"""

import argparse
import sys
from pathlib import Path

from benchmark.errors import UserError


def load(args: argparse.Namespace) -> tuple[str, object]:
    """The dataset the arguments name, and a name for it."""
    if args.root is not None:
        from benchmark.data.embeddings import load_embeddings

        parts = {"generator": args.generator, "embedder": args.embedder, "task": args.task}
        return f"{args.generator}_{args.embedder}_{args.task} in {args.root}", load_embeddings(root=args.root, **parts)
    if not args.overrides:
        raise UserError("name a dataset: --root DIR --generator G --embedder E --task T, or dataset=<option>")
    return " ".join(args.overrides), option_data(args.overrides)


def option_data(overrides: list[str]) -> object:
    """The data a run with these arm-bench overrides reads (e.g. ``["dataset=real_text"]``)."""
    from hydra import compose, initialize_config_dir

    from benchmark.config import instantiate_checked
    from benchmark.paths import CONF_DIR
    from benchmark.spec import register_resolvers

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    return instantiate_checked(cfg.dataset, "dataset")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="arm-bench-card", description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="arm-bench overrides naming a dataset, e.g. dataset=toy2d")
    parser.add_argument("--root", help="folder of embd_{generator}_{embedder}_{task}_{split}.npy files")
    parser.add_argument("--generator")
    parser.add_argument("--embedder")
    parser.add_argument("--task")
    parser.add_argument("--json", type=Path, help="also write the card to this JSON file")
    args = parser.parse_args(argv)
    from benchmark.card import data_card, format_card
    from benchmark.outputs import atomic_write_json

    try:
        if args.root is not None and not (args.generator and args.embedder and args.task):
            raise UserError("--root needs --generator, --embedder and --task (the name parts of the files)")
        name, data = load(args)
        card = data_card(data)
        if args.json is not None:
            atomic_write_json(args.json, card)
    except UserError as err:
        print(f"arm-bench-card: error: {err}", file=sys.stderr)
        sys.exit(2)
    print(format_card(name, card))
    if args.json is not None:
        print(f"card: {args.json}")


if __name__ == "__main__":
    main()
