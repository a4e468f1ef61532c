"""One problem found in a persona or knowledge file, as `bots check` and the reload report it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bots.errors import FileProblem

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem in one file; `line`/`column` are 1-based, None when the file as a whole."""

    path: str
    line: int | None
    column: int | None
    field: str | None
    message: str
    severity: Severity = "error"

    @classmethod
    def of(cls, problem: FileProblem, severity: Severity = "error") -> Finding:
        return cls(
            problem.path, problem.line, problem.column, problem.field, problem.detail, severity
        )

    def describe(self) -> str:
        """`file:line:column: `field`: message`, prefixed with `warning: ` for warnings."""
        text = FileProblem(
            self.path, self.message, line=self.line, column=self.column, field=self.field
        ).describe()
        return f"warning: {text}" if self.severity == "warning" else text
