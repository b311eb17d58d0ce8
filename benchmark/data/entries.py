"""What stands where a data file or folder should be, when it is not a usable one.

``Path.is_file()`` is False alike for a missing file, a symlink loop, a symlink to nothing and a directory, and
``Path.resolve()`` raises on a loop; the fix differs for each, so the message says which one it is and names it.
"""

import errno
import os
from pathlib import Path
from typing import Literal


def entry_problem(path: Path, kind: Literal["file", "folder"]) -> str | None:
    """Why ``path`` is not a usable ``kind``: a symlink loop or a dangling symlink (``path`` itself or a folder above
    it, the first one from the top named), a directory where a file should be, or a file where a folder should be.
    None when it is fine or simply missing (the caller says where such a file comes from)."""
    for part in (*reversed(path.parents), path):
        if not part.is_symlink():
            continue
        try:
            part.stat()
        except OSError as err:
            if err.errno == errno.ELOOP:
                return f"{part} is a symlink loop (following it leads back to it); point it at the real {kind}"
            if err.errno == errno.ENOENT:
                return (f"{part} is a dangling symlink: its target {os.readlink(part)} does not exist; point it at "
                        f"the real {kind} or remove it")
    if kind == "file" and path.is_dir():
        return f"{path} is a directory where a data file should be; point at the file itself"
    if kind == "folder" and path.exists() and not path.is_dir():
        return f"{path} is a file where a folder should be; point at the folder that holds the data files"
    return None
