"""Read-only views and version notes that keep a selector from changing what its context shares with the run.

A selector sees the run's labels, labelled pairs and model features. A write into them would silently change what
the run trains on or records (the model would learn vandalised labels while the saved selections keep the true
ones), so numpy arrays are handed in as read-only views whose writes name the attribute, and tensors, which torch
cannot make read-only, have their in-place version counters noted, so a changed one is found after ``select``.
"""

from functools import cached_property
from typing import Any

import numpy as np
import torch


class SharedStateWrite(ValueError):
    """A selector wrote into an array of its :class:`SelectionContext`; ``args[0]`` names the attribute."""


class SharedArray(np.ndarray):
    """A read-only view of an array the run keeps using; a write names the attribute instead of numpy's message."""

    attribute = ""

    def __array_finalize__(self, obj: object) -> None:
        self.attribute = getattr(obj, "attribute", "")

    def __setitem__(self, key: object, value: object) -> None:
        if not self.flags.writeable:
            raise SharedStateWrite(self.attribute)
        super().__setitem__(key, value)


def read_only(array: np.ndarray, attribute: str) -> SharedArray:
    view = np.asarray(array).view(SharedArray)
    view.attribute = attribute
    view.flags.writeable = False
    return view


def tensor_versions(value: object) -> list[int]:
    """In-place version counters of a tensor, or of each tensor of a tuple (empty for anything else)."""
    tensors = value if isinstance(value, tuple) else (value,)
    return [t._version for t in tensors if isinstance(t, torch.Tensor)]


class shared(cached_property):
    """A cached property of a :class:`SelectionContext` whose value's version counter is noted when computed."""

    def __get__(self, instance: object, owner: type | None = None) -> object:
        if instance is None:
            return self
        computed = self.attrname in vars(instance)
        value = super().__get__(instance, owner)
        if not computed:
            instance._note(self.attrname, value)  # type: ignore[attr-defined]
        return value


def guarded_select(selector: Any, context: Any, n: int) -> object:
    """``selector.select(context, n)``, refused with one line naming the selector and what it wrote into."""
    from benchmark.errors import UserError

    name = type(selector).__name__
    fix = "it is shared with the run; work on a copy"
    try:
        returned = selector.select(context, n)
    except SharedStateWrite as err:
        raise UserError(f"selector {name} wrote into context.{err}, which is read-only: {fix} "
                        f"(np.array(context.{err}))") from err
    except ValueError as err:
        if "read-only" not in str(err):
            raise
        raise UserError(f"selector {name} wrote into a read-only array of its context ({err}): {fix}") from err
    written = context.written()
    if written:
        raise UserError(f"selector {name} changed context.{', context.'.join(written)} in place: {fix} "
                        f"(context.{written[0]}.clone())")
    return returned
