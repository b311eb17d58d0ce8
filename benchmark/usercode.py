"""Your own code is an input: the modules a run loads through a ``_target_`` from outside the package.

The package's source is hashed file by file (:func:`benchmark.provenance.source_digests`). A researcher's own
selector or dataset lives elsewhere (``--config-dir conf`` with ``_target_: margin.SmallMarginSelector``), and
what its results depend on is the code the process *runs*, which is the source as it was imported: a reused
sweep worker or a notebook keeps the module it imported after the file is edited. So :func:`install` (called when
``benchmark`` is imported) puts a finder just before Python's path finder that notes the digest of every source
file outside the package, the standard library and the installed packages at the moment it is found for import;
:func:`fingerprint` reports, per module, the digest noted at import of each ``_target_``'s module and of the user
modules it imports (its import statements and the modules its globals come from, transitively), and warns in one
line about each file whose content is no longer what was imported.
"""

import ast
import contextlib
import hashlib
import importlib.util
import logging
import os
import site
import sys
import sysconfig
import time
import types
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from typing import Any

from benchmark.paths import PACKAGE_DIR

log = logging.getLogger(__name__)


#: Resolved file path -> its digest when it was last found for import.
_noted: dict[str, str] = {}
_installed_at: float | None = None


def digest(path: Path) -> str:
    return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()


@cache
def _foreign_roots() -> tuple[str, ...]:
    """Folders whose code is not the user's: this package, the interpreter's prefixes, stdlib and site-packages."""
    roots = {str(PACKAGE_DIR), sys.prefix, sys.base_prefix, sys.exec_prefix}
    roots.update(p for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_paths().get(key)))
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    roots.add(site.getusersitepackages())
    return tuple(sorted(os.path.realpath(r) + os.sep for r in roots))


def is_user_file(path: str | Path) -> bool:
    """A ``.py`` file outside the package, the interpreter and the installed packages: the user's own code."""
    real = os.path.realpath(path)
    return real.endswith(".py") and not real.startswith(_foreign_roots())


class _ImportNotes:
    """A meta-path finder that finds nothing itself: it asks the path finder and notes user files found."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.origin and is_user_file(spec.origin):
            with contextlib.suppress(OSError):  # the loader reports an unreadable file itself
                _noted[os.path.realpath(spec.origin)] = digest(Path(spec.origin))
        return spec


def install() -> None:
    """Note user files as they are imported from now on (idempotent; placed just before the path finder)."""
    global _installed_at
    if any(isinstance(finder, _ImportNotes) for finder in sys.meta_path):
        return
    index = next((i for i, f in enumerate(sys.meta_path) if f is PathFinder), len(sys.meta_path))
    sys.meta_path.insert(index, _ImportNotes())
    _installed_at = time.time()


def targets(tree: Any) -> Iterator[str]:
    """Every ``_target_`` string in a (nested) config."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            if key == "_target_" and isinstance(value, str):
                yield value
            else:
                yield from targets(value)
    elif isinstance(tree, list | tuple):
        for value in tree:
            yield from targets(value)


def target_module(target: str) -> types.ModuleType | None:
    """The imported module a dotted target lives in (its longest prefix in ``sys.modules``)."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:end]))
        if isinstance(module, types.ModuleType):
            return module
    return None


def _user_file(module: types.ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    return os.path.realpath(file) if file and is_user_file(file) else None


def _imported_names(module: types.ModuleType, file: str) -> set[str]:
    """Module names ``module`` imports: its import statements (absolute, relative, any depth) and its globals."""
    names = {getattr(value, "__name__" if isinstance(value, types.ModuleType) else "__module__", None)
             for value in vars(module).values()}
    try:
        tree = ast.parse(Path(file).read_bytes())
    except (OSError, SyntaxError, ValueError):
        tree = ast.Module(body=[], type_ignores=[])
    package = module.__package__ or ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            try:
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            except (ImportError, ValueError):
                continue
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    expanded = set()
    for name in filter(None, names):
        parts = str(name).split(".")
        expanded.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))  # parent packages run too
    return expanded


def user_modules(config: Mapping[str, Any]) -> dict[str, str]:
    """Module name -> file of every user module the config's targets load, with the user modules they import."""
    found: dict[str, str] = {}
    queue = [module for target in targets(config) if (module := target_module(target)) is not None]
    while queue:
        module = queue.pop()
        file = _user_file(module)
        if file is None or module.__name__ in found:
            continue
        found[module.__name__] = file
        for name in _imported_names(module, file):
            imported = sys.modules.get(name)
            if isinstance(imported, types.ModuleType) and name not in found:
                queue.append(imported)
    return dict(sorted(found.items()))


def shown(file: str) -> str:
    """A file as messages name it: relative to the working directory when it lies below it."""
    try:
        return str(Path(file).relative_to(Path.cwd().resolve()))
    except ValueError:
        return file


def fingerprint(config: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{module: {"file": ..., "digest": ...}}`` for the user code a run uses, as imported.

    A file whose content is no longer the imported one gets one warning: the run goes on with, and records, the
    code it runs. A module imported before :func:`install` (nothing noted) is hashed as it is now, with a warning
    when the file was modified after arm-bench was imported, since the running code may be older.
    """
    result = {}
    for name, file in user_modules(config).items():
        try:
            now = digest(Path(file))
        except OSError:
            now = None
        noted = _noted.get(file)
        if noted is None:
            if now is None:
                continue
            noted = _noted[file] = now
            if _installed_at is not None and os.stat(file).st_mtime > _installed_at:
                log.warning("%s was imported before arm-bench could note it and has changed since; its digest is of "
                            "the file as it is now, which may not be the code running (restart the process)",
                            shown(file))
        elif now != noted:
            log.warning("%s changed after this process imported it; this run uses and records the imported version "
                        "(restart the process, or importlib.reload(%s), to run the edited file)", shown(file), name)
        result[name] = {"file": shown(file), "digest": noted}
    return result


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """One phrase per changed user file between two :func:`fingerprint` results."""
    phrases = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if after is None:
            phrases.append(f"your module {name} ({before['file']}) is no longer used")
        elif before is None:
            phrases.append(f"your module {name} ({after['file']}) is new")
        elif before["digest"] != after["digest"]:
            phrases.append(f"your code changed: {after['file']}")
    return phrases
