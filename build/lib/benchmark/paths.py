"""Locations the installed command needs, built from the package's own location.

Hydra resolves a relative ``config_path`` against the calling module, which breaks once the command runs
from another directory; absolute paths from ``__file__`` work from anywhere. ``benchmark/conf`` is a link to
the repository's top-level ``conf/`` (whose ``sweep`` group links to ``sweeps/``); building a wheel follows the
links, so an installed copy carries real files at the same place and the same code finds them.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout root in a development install; site-packages in an installed wheel.
REPO_ROOT = PACKAGE_DIR.parent
CONF_DIR = PACKAGE_DIR / "conf"
SWEEPS_DIR = CONF_DIR / "sweep"
#: The config of ``arm-bench-build``, apart from ``arm-bench``'s groups so it never shows in their help.
BUILD_CONF_DIR = PACKAGE_DIR / "build" / "conf"
