"""Opening input files and checking the results folder, safely (SPEC §7.1).

Every path ccsim reads -- the file on the command line, ``extends``, ``profile_file``, a
roadmap's ``baseline``, a results folder's files -- goes through :func:`read_input`: it
must resolve (symlinks followed) to a regular file, not a directory, device, FIFO, socket
or a ``/proc`` / ``/sys`` entry, and is read with a size cap, so ``/dev/zero`` or a huge
file cannot exhaust memory and a FIFO cannot block. Problems are :class:`InputError`\\ s
that name the path and never quote the file's content.

:func:`check_out` tries the results folder before anything is simulated: it is created
and a probe file written and removed, so a file in the way, a read-only or full disk or a
name too long is exit 2 at once instead of a traceback after the run.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

from sim.base.errors import InputError

__all__ = ["read_input", "check_out", "safe_name", "describe_os_error"]

_PSEUDO_ROOTS = ("/proc", "/sys")


def describe_os_error(exc: BaseException) -> str:
    """A short, content-free description of an OSError (no path, no file text)."""
    code = getattr(exc, "errno", None)
    return {
        errno.ENOENT: "not found",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.ELOOP: "the path goes round in a loop of symbolic links",
        errno.ENAMETOOLONG: "the path or one of its names is too long",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left on the disk",
        errno.EDQUOT: "disk quota exceeded",
        errno.EISDIR: "is a directory",
        errno.EEXIST: "a file is in the way",
        errno.EIO: "input/output error",
    }.get(code, (getattr(exc, "strerror", None) or type(exc).__name__).lower())


def _pseudo_devices() -> set[int]:
    devs = set()
    for root in _PSEUDO_ROOTS:
        try:
            devs.add(os.stat(root).st_dev)
        except OSError:
            pass
    return devs


def _kind_problem(st: os.stat_result, real: str, what: str) -> str | None:
    if stat.S_ISDIR(st.st_mode):
        return f"is a directory; expected {what}"
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a device")
        return f"is {kind}, not a regular file; expected {what}"
    if (st.st_dev in _pseudo_devices()
            or any(real == r or real.startswith(r + "/") for r in _PSEUDO_ROOTS)):
        return f"is a system entry under /proc or /sys, not a regular file; expected {what}"
    return None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n / 1024:g} KiB"


def read_input(path: str | Path, *, what: str, max_bytes: int,
               file: str | None = None, line: int | None = None,
               field: str | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; else an InputError.

    ``what`` names the expected kind ("a YAML file"); ``file``/``line``/``field`` say where
    the path was given (e.g. the scenario line of ``profile_file``) -- by default the error
    names the path itself.
    """
    shown = str(path)

    def fail(message: str) -> InputError:
        if file is None:
            return InputError(message, file=shown)
        return InputError(f"'{shown}' {message}", file=file, line=line, path=field)

    if "\x00" in shown:
        raise InputError("the path contains a NUL character", file=file, line=line,
                         path=field)
    try:
        st = os.stat(shown)  # follows symlinks; a loop is ELOOP
    except OSError as exc:
        raise fail("file not found" if exc.errno == errno.ENOENT and file is None else
                   ("was not found" if exc.errno == errno.ENOENT else
                    f"cannot be opened ({describe_os_error(exc)})")) from None
    real = os.path.realpath(shown)
    problem = _kind_problem(st, real, what)
    if problem:
        raise fail(problem)
    if st.st_size > max_bytes:
        raise fail(f"is {_size(st.st_size)}; {what} may be at most {_size(max_bytes)} "
                   "(see Limits in docs/reference.md)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(shown, flags)  # non-blocking: a FIFO swapped in cannot hang us
    except OSError as exc:
        raise fail(f"cannot be opened ({describe_os_error(exc)})") from None
    try:
        problem = _kind_problem(os.fstat(fd), real, what)  # what we actually opened
        if problem:
            raise fail(problem)
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise fail(f"cannot be read ({describe_os_error(exc)})") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise fail(f"is larger than {_size(max_bytes)}, the most {what} may be "
                   "(see Limits in docs/reference.md)")
    return b"".join(chunks)


def file_sha256(path: str | Path, max_bytes: int) -> str:
    """SHA-256 of an input file (read with the same checks), '' if it cannot be read."""
    try:
        return hashlib.sha256(read_input(path, what="a file", max_bytes=max_bytes)).hexdigest()
    except InputError:
        return ""


def check_out(folder: Path) -> None:
    """Make sure results can be written in ``folder`` (created if need be): exit 2 now
    rather than a traceback after the simulation."""
    shown = str(folder) if len(str(folder)) <= 120 else str(folder)[:117] + "..."
    if "\x00" in str(folder):
        raise InputError("the results folder's path contains a NUL character", path="--out")

    def fail(why: str) -> InputError:
        return InputError(f"cannot write results in '{shown}': {why}", path="--out")

    try:
        if folder.exists() and not folder.is_dir():
            raise fail("it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ccsim-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except InputError:
        raise
    except FileExistsError:
        raise fail("a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise fail(describe_os_error(exc)) from None


def safe_name(name: str, max_chars: int = 80) -> str:
    """``name`` as one folder name: path separators and control characters replaced, and
    shortened with a hash when long (the default results folder comes from it)."""
    clean = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in name)
    clean = clean.strip(". ") or "results"
    if len(clean) <= max_chars:
        return clean
    digest = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:10]
    return f"{clean[:max_chars - 11]}-{digest}"


def default_out(name: str) -> Path:
    """The default results folder of a run: results/<safe name>/<UTC timestamp>/."""
    import datetime as dt

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / safe_name(name) / stamp
