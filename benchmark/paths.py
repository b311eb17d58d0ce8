"""Locations the installed command needs, built from the package's own location.

Hydra resolves a relative ``config_path`` against the calling module, which breaks once the
command runs from another directory; absolute paths from ``__file__`` work from anywhere.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CONF_DIR = REPO_ROOT / "conf"
SWEEPS_DIR = REPO_ROOT / "sweeps"
