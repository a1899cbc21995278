"""Scripted REST failures: "the next two POSTs to this channel answer 500", "answer 429 once"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FaultRule:
    """Fail the next ``remaining`` calls matching method, route template and route parameters."""

    method: str
    route: str
    status: int
    remaining: int
    params: dict[str, str] = field(default_factory=dict)
    retry_after: float = 0.05
    is_global: bool = False
    message: str | None = None
    code: int = 0

    def matches(self, method: str, route: str, params: dict[str, str]) -> bool:
        """Whether a call with this method, route template and parameters is targeted."""
        if self.remaining <= 0 or self.method != method.upper() or self.route != route:
            return False
        return all(params.get(key) == value for key, value in self.params.items())

    def body(self) -> dict[str, Any]:
        """The error body Discord sends for this status."""
        if self.status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
                "code": 0,
            }
        default = {
            500: "500: Internal Server Error",
            502: "502: Bad Gateway",
            503: "503: Service Unavailable",
            403: "Missing Permissions",
            404: "404: Not Found",
            400: "400: Bad Request",
        }
        return {
            "message": self.message or default.get(self.status, f"{self.status}: Error"),
            "code": self.code,
        }

    def headers(self) -> dict[str, str]:
        """Extra response headers (Discord's rate-limit headers for 429)."""
        if self.status != 429:
            return {}
        return {
            "Retry-After": str(max(1, round(self.retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(self.retry_after),
            "X-RateLimit-Scope": "shared" if not self.is_global else "global",
            "Via": "1.1 google",
        }


class FaultPlan:
    """The fault rules of one sandbox; consulted by the REST layer before every call."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
        message: str | None = None,
        code: int = 0,
        **params: int | str,
    ) -> FaultRule:
        """Make the next ``count`` matching calls fail with ``status``.

        ``route`` is a template as listed in the README (``"/channels/{channel_id}/messages"``); keyword
        arguments narrow it to specific parameters (``channel_id=ch.id``).
        """
        rule = FaultRule(
            method=method.upper(),
            route=route,
            status=status,
            remaining=count,
            params={key: str(value) for key, value in params.items()},
            retry_after=retry_after,
            is_global=is_global,
            message=message,
            code=code,
        )
        self.rules.append(rule)
        return rule

    def take(self, method: str, route: str, params: dict[str, str]) -> FaultRule | None:
        """Return (and consume one use of) the first rule matching this call, if any."""
        for rule in self.rules:
            if rule.matches(method, route, params):
                rule.remaining -= 1
                return rule
        return None

    def clear(self) -> None:
        """Forget every rule."""
        self.rules.clear()

    @property
    def pending(self) -> int:
        """How many scripted failures have not fired yet."""
        return sum(rule.remaining for rule in self.rules)
