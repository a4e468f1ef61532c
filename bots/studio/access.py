"""Who may use the studio: loopback or a login, editor and viewer roles, CSRF, login rate limit."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bots.errors import ConfigError
from bots.secret import Secret

EDITOR = "editor"
VIEWER = "viewer"
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW_SECONDS = 300.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AccessRules:
    """Passwords from the environment; without any, only the local user (loopback) gets in."""

    editor_password: Secret | None = None
    viewer_password: Secret | None = None

    @property
    def needs_login(self) -> bool:
        return self.editor_password is not None or self.viewer_password is not None

    def refuse_unsafe_binding(self, host: str) -> None:
        """Anywhere but loopback, anyone on the network could edit the bot: insist on a login."""
        if not is_loopback(host) and self.editor_password is None:
            raise ConfigError(
                f"the studio will not listen on {host} without a login: set "
                "BOTS_STUDIO_PASSWORD (and BOTS_STUDIO_VIEWER_PASSWORD for read-only users), "
                "or keep the default --host 127.0.0.1"
            )

    def role_for(self, password: str) -> str | None:
        for role, secret in ((EDITOR, self.editor_password), (VIEWER, self.viewer_password)):
            if secret is not None and hmac.compare_digest(
                password.encode("utf-8"), secret.reveal().encode("utf-8")
            ):
                return role
        return None


@dataclass
class LoginThrottle:
    """At most MAX_FAILED_LOGINS wrong passwords per client per window, then a wait."""

    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def blocked(self, client: str) -> bool:
        recent = self._recent(client)
        return len(recent) >= MAX_FAILED_LOGINS

    def failed(self, client: str) -> None:
        self._recent(client).append(self.clock())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _recent(self, client: str) -> list[float]:
        now = self.clock()
        kept = [t for t in self._failures.get(client, []) if now - t < FAILED_LOGIN_WINDOW_SECONDS]
        self._failures[client] = kept
        return kept


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given and expected) and hmac.compare_digest(str(given), str(expected))
