"""ccsim: a discrete-event contact-center simulator built on SimPy.

The Python API (docs/howto-python.md): ``sim.run(file, ...)`` and ``sim.compare([...])``
return a :class:`sim.api.Result` of pandas DataFrames. They are loaded on first use, so
``import sim`` (and the ``ccsim`` command's start-up) stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["Result", "compare", "run", "__version__"]


def __getattr__(name: str) -> Any:  # PEP 562: the API without importing pandas up front
    if name in ("run", "compare", "Result"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
