"""Compiled report templates kept between runs, as Python keeps compiled modules.

Compiling the page's Jinja2 templates costs about as much as rendering them; the compiled
code is stored beside Python's own bytecode: under ``sys.pycache_prefix`` when it is set
(``PYTHONPYCACHEPREFIX``), else in ``sim/report/templates/__pycache__/``. As for a ``.pyc``,
nothing is written when Python writes no bytecode (``PYTHONDONTWRITEBYTECODE``), a folder
that cannot be written is skipped silently, and a stale or damaged file is compiled again
(Jinja2 checks each file's source checksum). The page rendered is the same to the byte.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

from jinja2 import __version__ as jinja_version
from jinja2.bccache import Bucket, BytecodeCache


def cache_folder(templates: Path) -> Path:
    """Where the compiled templates of the folder ``templates`` go."""
    if sys.pycache_prefix:
        return Path(sys.pycache_prefix, *templates.resolve().parts[1:], "__pycache__")
    return templates / "__pycache__"


class TemplateCache(BytecodeCache):
    """One file per template, named by the template, Jinja2's version and the settings
    the code was compiled with (``settings``): code compiled otherwise is never loaded."""

    def __init__(self, folder: Path, settings: str) -> None:
        self.folder = folder
        self.salt = f"{jinja_version}|{settings}"

    def _path(self, bucket: Bucket) -> Path:
        key = hashlib.sha1(f"{self.salt}|{bucket.key}".encode()).hexdigest()
        return self.folder / f"{key}.jinja"

    def load_bytecode(self, bucket: Bucket) -> None:
        path = self._path(bucket)
        try:
            if not path.is_file():  # none yet (or not a regular file: never opened)
                return
            with open(path, "rb") as f:
                bucket.load_bytecode(f)
        except Exception:  # noqa: BLE001 - missing, unreadable or damaged: compile again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        if sys.dont_write_bytecode:
            return
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
            with os.fdopen(fd, "wb") as f:
                bucket.write_bytecode(f)
            os.replace(tmp, self._path(bucket))
            tmp = None
        except OSError:  # a read-only install, a full disk: compile again next time
            pass
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
