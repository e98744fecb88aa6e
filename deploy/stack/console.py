"""The runner's output: its own progress and every service's log lines, one prefixed line each,
coloured per source on a terminal so interleaved services stay readable."""

from __future__ import annotations

import sys
from typing import TextIO

RUNNER = "stack"
_RESET = "\033[0m"
_PALETTE = ("\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m")
_RUNNER_STYLE = "\033[1m"
_ERROR_STYLE = "\033[1;31m"


class Console:
    def __init__(
        self, sources: tuple[str, ...], out: TextIO = sys.stdout, err: TextIO = sys.stderr
    ) -> None:
        self.out = out
        self.err = err
        self.width = max(len(s) for s in (RUNNER, *sources))
        self.styles = {s: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(sources)}
        self.styles[RUNNER] = _RUNNER_STYLE

    @property
    def is_terminal(self) -> bool:
        return self.out.isatty()

    def line(self, source: str, text: str) -> None:
        self._write(self.out, source, text)

    def say(self, text: str) -> None:
        self._write(self.out, RUNNER, text)

    def error(self, text: str) -> None:
        lines = text.splitlines() or [""]
        self._write(self.err, RUNNER, f"error: {lines[0]}", _ERROR_STYLE)
        for line in lines[1:]:
            self._write(self.err, RUNNER, line)

    def _write(self, stream: TextIO, source: str, text: str, style: str = "") -> None:
        prefix = f"{source:<{self.width}} |"
        if stream.isatty():
            prefix = f"{self.styles.get(source, '')}{prefix}{_RESET}"
            text = f"{style}{text}{_RESET}" if style else text
        # Flushed per line: the output is often a pipe (CI, tests) read while the stack runs.
        print(f"{prefix} {text}", file=stream, flush=True)
