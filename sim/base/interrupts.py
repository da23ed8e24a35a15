"""Ctrl-C (SIGINT) and SIGTERM: stop, keep what finished, exit 3 (SPEC §7.1).

The command line installs :func:`install`: the first signal raises KeyboardInterrupt in
the main thread (the runner stops its workers and returns what finished); later signals
are noted, not raised, so the cleanup and the writing of results are never cut short.
Inside :func:`held` (writing a file, starting a Dask cluster) a signal is only noted;
``held(reraise=True)`` raises it when the block ends. A third signal outside such a block
stops at once (after killing this process's children), for a cleanup that hangs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = ["install", "held", "received", "signal_name", "finish", "resume", "clear"]

_signals: list[int] = []
_late: list[int] = []   # arrived after finish(): the results were complete already
_state = {"held": 0, "raised": False, "installed": False, "finished": False}


def install() -> None:
    """Route SIGINT and SIGTERM through :func:`_handler` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _handler)
    _state["installed"] = True


def _handler(signum: int, frame: object) -> None:
    if _state["finished"]:
        _late.append(signum)
        return
    _signals.append(signum)
    if _state["held"]:
        return
    if _state["raised"]:
        if len(_signals) >= 3:
            _stop_now()
        return
    _state["raised"] = True
    raise KeyboardInterrupt


def _stop_now() -> None:
    """A third signal while stopping: kill our children and leave at once."""
    for child in multiprocessing.active_children():
        with contextlib.suppress(Exception):
            child.kill()
    with contextlib.suppress(Exception):
        sys.stderr.write("interrupted again: stopped at once\n")
        sys.stderr.flush()
    os._exit(3)


@contextlib.contextmanager
def held(reraise: bool = False) -> Iterator[None]:
    """Hold signals during the block (they are noted, not raised). With ``reraise`` a
    signal noted during the block raises KeyboardInterrupt when it ends, if none was
    raised yet."""
    before = len(_signals)
    _state["held"] += 1
    try:
        yield
    finally:
        _state["held"] -= 1
    if (reraise and _state["installed"] and len(_signals) > before and not _state["held"]
            and not _state["raised"]):
        _state["raised"] = True
        raise KeyboardInterrupt


def received() -> bool:
    """Whether SIGINT or SIGTERM arrived since :func:`install` (or :func:`clear`)."""
    return bool(_signals)


def signal_name() -> str | None:
    """``SIGINT`` or ``SIGTERM``: the first signal received, for summary.json."""
    return signal.Signals(_signals[0]).name if _signals else None


def finish() -> None:
    """The command's results are complete and written: a signal from now on is too late
    to change them and is ignored (the command exits as it would have)."""
    _state["finished"] = True


def resume() -> None:
    """More work follows a finished part (the demo's second part): signals count again;
    one that arrived in between stops the command now."""
    _state["finished"] = False
    if _late and _state["installed"]:
        _signals.extend(_late)
        _late.clear()
        _state["raised"] = True
        raise KeyboardInterrupt


def clear() -> None:
    """Forget received signals (tests, the Python API)."""
    _signals.clear()
    _late.clear()
    _state.update(raised=False, finished=False)
