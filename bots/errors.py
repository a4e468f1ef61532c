"""The project's one small error tree: every failure a caller may handle is one of these."""

from __future__ import annotations

from pathlib import Path


class BotsError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(BotsError):
    """A setting (environment variable or command-line option) is missing or wrong."""


class FileProblem(BotsError):
    """A persona or knowledge file is wrong; the message names file, line, column and field."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.field = field
        self.detail = message
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"`{self.field}`: " if self.field else ""
        return f"{where}: {what}{self.detail}"


class PersonaError(FileProblem):
    """A persona file cannot be used."""


class KnowledgeError(FileProblem):
    """A knowledge file cannot be used."""


class LLMError(BotsError):
    """The language model could not give a reply."""


class LLMUnavailable(LLMError):
    """The API could not be reached, timed out, or kept failing after retries."""


class LLMRateLimited(LLMUnavailable):
    """HTTP 429; `retry_after` is the server's hint in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMServerError(LLMUnavailable):
    """HTTP 5xx; `retry_after` as above."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMStreamCut(LLMUnavailable):
    """The streamed reply stopped before it finished; `partial` is what arrived."""

    def __init__(self, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class LLMBadResponse(LLMError):
    """The server answered with something that is not a chat completion."""


class LLMAuthError(LLMError):
    """HTTP 401/403: the API key is missing, wrong or lacks access."""


class ContextTooLong(LLMError):
    """The server says the prompt does not fit the model's context window; `limit` is that
    window in tokens when the server named it."""

    def __init__(self, message: str, limit: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit


class ToolsRefused(LLMBadResponse):
    """The server rejected the request because it does not take `tools`."""


class StoreError(BotsError):
    """The conversation store failed or holds an unexpected schema."""
