"""Fault injection: the rules (set through ``/_mock/faults``) that delay API requests or answer them with an error before
they reach the exchange, so a test can see how its client copes with a flaky server.

A rule names the requests it applies to (``path``: a glob such as ``/v1/mm/*``, or a regular expression
after ``re:``, matched against the whole path; ``method``: one method, or any) and what happens to them:
``latency_ms`` of real delay, and/or an error answer with ``status`` (4xx or 5xx), ``error`` and
``message``. An error answer stands in for the exchange, so the exchange never sees the request and
nothing in it changes. ``probability`` (0..1, default 1) says how often the rule fires, drawn from a
generator of the rule's own seeded from the exchange's seed and the rule's number, so the same seed
and the same requests inject the same faults. ``count`` limits the rule to its first N matching
requests (whether they fired or not); then it lapses and is removed.

Rules are checked in the order they were added. The latencies of all the rules that fire add up; the
first rule that fires with a ``status`` answers, and the rules after it are not consulted (they neither
draw nor count). ``/_mock`` routes are never faulted. The delay is real time: on a manual clock it
does not move the mock's time.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Callable

from .errors import ApiError, invalid_request, is_number, is_whole

REGEX_PREFIX = "re:"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_LATENCY_MS = 120_000.0
MAX_PATTERN_CHARS = 500
MAX_MESSAGE_CHARS = 500
ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# The contract's codes for the statuses it uses; any other status gets its HTTP reason in snake_case.
_CODES = {400: "invalid_request", 401: "unauthorized", 402: "insufficient_balance", 403: "forbidden",
          404: "not_found", 405: "method_not_allowed", 409: "conflict", 429: "rate_limited",
          500: "internal_error", 502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client Error" if status < 500 else "Server Error"


def default_error_code(status: int) -> str:
    """The ``error`` code of an injected ``status`` when the rule names none."""
    return _CODES.get(status) or re.sub(r"[^a-z0-9]+", "_", _reason(status).lower()).strip("_")


def default_message(status: int) -> str:
    return f"{_reason(status)}: this answer was injected by a pf-mock /_mock/faults rule."


def compile_pattern(pattern) -> Callable[[str], bool]:
    """A predicate on request paths: ``re:<regex>`` (the whole path must match) or an fnmatch glob."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise invalid_request("path is required: a glob like /v1/mm/* or a regex after 're:'.", field="path")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise invalid_request(f"path may have at most {MAX_PATTERN_CHARS} characters.", field="path")
    if pattern.startswith(REGEX_PREFIX):
        try:
            regex = re.compile(pattern[len(REGEX_PREFIX):])
        except re.error as exc:
            raise invalid_request(f"path is not a valid regular expression ({exc}).", field="path") from None
        return lambda path: regex.fullmatch(path) is not None
    return lambda path: fnmatch.fnmatchcase(path, pattern)


@dataclass(frozen=True)
class Injection:
    """What the fault rules decided for one request: a delay, then either an error answer or the
    request goes on to the exchange (``status`` None)."""
    latency_ms: float = 0.0
    status: int | None = None
    body: dict | None = None


@dataclass
class FaultRule:
    id: str
    path: str
    method: str | None
    status: int | None
    error: str | None
    message: str | None
    latency_ms: float
    probability: float
    count: int | None
    matches_path: Callable[[str], bool] = field(repr=False)
    rng: random.Random = field(repr=False)
    matched: int = 0        # requests it applied to
    fired: int = 0          # of those, the ones it acted on

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and self.matches_path(path)

    @property
    def remaining(self) -> int | None:
        return None if self.count is None else self.count - self.matched

    def view(self) -> dict:
        return {"id": self.id, "path": self.path, "method": self.method, "status": self.status,
                "error": self.error, "message": self.message, "latency_ms": self.latency_ms,
                "probability": self.probability, "count": self.count, "remaining": self.remaining,
                "matched": self.matched, "fired": self.fired}


class FaultTable:
    """The standing fault rules of one app. Plain Python: ``add``, ``draw``, ``clear``, ``reset``."""

    def __init__(self, seed: int = 0):
        self.reset(seed)

    def reset(self, seed: int) -> None:
        """Start over: no rules, rule numbers from 1 again, generators seeded from ``seed``."""
        self.seed = seed
        self.rules: list[FaultRule] = []
        self._numbered = 0

    def add(self, path: str, *, method: str | None = None, status: int | None = None, error: str | None = None,
            message: str | None = None, latency_ms: float | None = None, probability: float | None = None,
            count: int | None = None) -> FaultRule:
        """Check a rule and stand it after the others; on any bad field raise 400 ``invalid_request``
        naming it, and add nothing."""
        matches_path = compile_pattern(path)
        if method is not None:
            if not isinstance(method, str) or method.upper() not in METHODS:
                raise invalid_request(f"method must be one of {', '.join(METHODS)}.", field="method")
            method = method.upper()
        if status is not None and not (is_whole(status) and 400 <= status <= 599):
            raise invalid_request("status must be an HTTP error status, 400 to 599.", field="status")
        if error is not None:
            if status is None:
                raise invalid_request("error needs a status to answer with.", field="error")
            if not isinstance(error, str) or not ERROR_CODE.match(error):
                raise invalid_request("error must be a snake_case code like service_unavailable.", field="error")
        if message is not None:
            if status is None:
                raise invalid_request("message needs a status to answer with.", field="message")
            if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_CHARS:
                raise invalid_request(f"message must be 1 to {MAX_MESSAGE_CHARS} characters.", field="message")
        if latency_ms is not None and not (is_number(latency_ms) and 0 <= latency_ms <= MAX_LATENCY_MS):
            raise invalid_request(f"latency_ms must be a number from 0 to {MAX_LATENCY_MS:g}.", field="latency_ms")
        if status is None and latency_ms is None:
            raise invalid_request("A fault needs a status, a latency_ms, or both.", field="status")
        if probability is not None and not (is_number(probability) and 0 <= probability <= 1):
            raise invalid_request("probability must be a number from 0 to 1.", field="probability")
        if count is not None and not (is_whole(count) and 1 <= count <= 2**53):
            raise invalid_request("count must be a whole number from 1 to 2**53.", field="count")

        self._numbered += 1
        rule_id = f"flt_{self._numbered}"
        rule = FaultRule(
            id=rule_id, path=path, method=method, status=status,
            error=(error or default_error_code(status)) if status is not None else None,
            message=(message or default_message(status)) if status is not None else None,
            latency_ms=float(latency_ms or 0.0), probability=1.0 if probability is None else float(probability),
            count=count, matches_path=matches_path, rng=random.Random(f"pf-mock:{self.seed}:faults:{rule_id}"))
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> FaultRule:
        for rule in self.rules:
            if rule.id == rule_id:
                self.rules.remove(rule)
                return rule
        raise ApiError(404, "fault_not_found", f"No fault rule {rule_id!r} is standing.", fault_id=rule_id)

    def clear(self) -> int:
        cleared = len(self.rules)
        self.rules = []
        return cleared

    def draw(self, method: str, path: str) -> Injection | None:
        """Apply the rules to one request; None when none of them fired."""
        latency_ms, answer, fired = 0.0, None, False
        for rule in list(self.rules):
            if not rule.matches(method, path):
                continue
            rule.matched += 1
            if rule.rng.random() < rule.probability:
                fired = True
                rule.fired += 1
                latency_ms += rule.latency_ms
                if rule.status is not None:
                    answer = rule
            if rule.remaining == 0:
                self.rules.remove(rule)
            if answer is not None:
                break
        if not fired:
            return None
        if answer is None:
            return Injection(latency_ms)
        return Injection(latency_ms, answer.status, {"error": answer.error, "message": answer.message})

    def view(self) -> list[dict]:
        return [rule.view() for rule in self.rules]
