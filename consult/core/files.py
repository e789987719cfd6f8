"""Files and folders that hold secrets or data: only the service user may read them, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path


def create_private_file(path: Path, content: bytes = b"") -> None:
    """Create a new file with mode 600 from the start (secret key, database, backup); fails if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
    finally:
        os.close(fd)


def private_folder(path: Path) -> Path:
    """Create a folder (and its parents) that only its owner may enter; an existing one is left as it is."""
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)
    return path
