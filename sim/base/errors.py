"""User-facing input errors.

Every problem with user input (scenario files, CLI overrides) is reported as an
:class:`InputError`; the CLI prints each of ``err.lines()`` -- one line per problem, naming
the file, the line where known, the dotted path of the field and what is expected -- and
exits with status 2. A file with several problems gives them all at once (in file order).
"""

from __future__ import annotations

__all__ = ["InputError", "MAX_SHOWN"]

MAX_SHOWN = 20   # problems listed of one file; the rest are counted


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
        self.others: list[InputError] = []   # further problems of the same input

    @classmethod
    def of(cls, problems: list[InputError]) -> InputError:
        """One error for several problems: the first (in file order) carries the rest."""
        ordered = sorted(problems, key=lambda e: (e.file or "", e.line or 0))
        first = ordered[0]
        first.others = [p for p in ordered[1:]]
        return first

    def lines(self) -> list[str]:
        """One line per problem (at most :data:`MAX_SHOWN`, then a count of the rest)."""
        every = [self._one(), *(p._one() for p in self.others)]
        if len(every) > MAX_SHOWN:
            rest = len(every) - MAX_SHOWN + 1
            every = [*every[:MAX_SHOWN - 1], f"... and {rest} more problems"]
        return every

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _one(self) -> str:
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
        return (_rebuild, (self.message, self.file, self.line, self.path, self.others))


def _rebuild(message: str, file: str | None, line: int | None, path: str | None,
             others: list[InputError] | None = None) -> InputError:
    err = InputError(message, file=file, line=line, path=path)
    err.others = list(others or [])
    return err
