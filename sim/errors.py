"""User-facing input errors.

Every problem with user input (scenario files, CLI overrides) is reported as an
:class:`InputError`; the CLI prints ``str(err)`` -- one paragraph naming the file, the line
where known, the dotted path of the field and what is expected -- and exits with status 2.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """Bad user input: file, line (optional), dotted path (optional), what is expected.

    ``str(err)`` gives one paragraph, e.g.::

        scenarios/x.yaml, line 12, at channels.phone.arrivals.rate_per_hour:
        Input should be greater than 0 (got -5).

    (on one line). Parts that are unknown are left out.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.path = path or None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.path:
            where.append(f"at {self.path}")
        # One paragraph: collapse newlines and runs of whitespace from e.g. YAML messages.
        text = " ".join(str(self.message).split()) or "invalid input"
        if text[-1] not in ".?!":
            text += "."
        return f"{', '.join(where)}: {text}" if where else text

    def __repr__(self) -> str:
        return (f"InputError({self.message!r}, file={self.file!r}, line={self.line!r}, "
                f"path={self.path!r})")

    def __reduce__(self):  # keep file/line/path when pickled (e.g. across worker processes)
        return (_rebuild, (self.message, self.file, self.line, self.path))


def _rebuild(message: str, file: str | None, line: int | None, path: str | None) -> InputError:
    return InputError(message, file=file, line=line, path=path)
