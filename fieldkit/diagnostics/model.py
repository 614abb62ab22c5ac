"""The result vocabulary every diagnostic shares (one enum of states, like nmap's, plus evidence).

``skip`` means the check could not apply here (no battery, no smartctl) and says why; ``error``
means the check itself broke or timed out. Neither is ever dressed up as ``ok``.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

RUN_SCHEMA = "fieldkit.diag/1"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class ReachState(StrEnum):
    """Where a TCP probe of one port got, nmap's vocabulary (``reason`` says why), best first:
    open (an answer), closed (refused), filtered (no answer, or a firewall's "prohibited"),
    unreachable (no route), unresolved (the name did not resolve), error (the probe broke);
    not-probed (validated only: --no-probe or the customer's policy), never a probe's result."""

    OPEN = "open"
    CLOSED = "closed"
    FILTERED = "filtered"
    UNREACHABLE = "unreachable"
    UNRESOLVED = "unresolved"
    ERROR = "error"
    NOT_PROBED = "not-probed"


# worst first: what decides a run's overall verdict
SEVERITY_ORDER = (Status.FAIL, Status.ERROR, Status.WARN, Status.OK, Status.SKIP)
_SEVERITY = {status: rank for rank, status in enumerate(SEVERITY_ORDER)}


def severity(status: str) -> int:
    """The rank of ``status`` in :data:`SEVERITY_ORDER` (0 = fail): a sort key, worst first."""
    return _SEVERITY[Status(status)]


def worst(statuses: Iterable[str], default: Status = Status.SKIP) -> Status:
    """Worst status wins: the first of fail, error, warn, ok, skip among ``statuses``;
    ``default`` when there are none. The one place this rule is written."""
    return min((Status(s) for s in statuses), key=severity, default=default)


@dataclass
class Finding:
    check: str
    subject: str
    status: Status
    summary: str
    hint: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if self.status in (Status.WARN, Status.FAIL) and not self.hint:
            raise ValueError(f"{self.check}/{self.subject}: a {self.status} finding needs a hint")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "status": str(self.status),
            "summary": self.summary,
            "hint": self.hint,
            "data": self.data,
            "duration_s": round(self.duration_s, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(str(data["check"]), str(data["subject"]), Status(data["status"]),
                   str(data["summary"]), str(data.get("hint") or ""), dict(data.get("data") or {}),
                   float(data.get("duration_s") or 0.0))


@dataclass
class DiagRun:
    host: str
    started_at: str
    duration_s: float
    findings: list[Finding]

    @property
    def failed(self) -> bool:
        return any(f.status == Status.FAIL for f in self.findings)

    @property
    def incomplete(self) -> bool:
        """A check broke or timed out: the run cannot vouch for what that check looks at."""
        return any(f.status == Status.ERROR for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RUN_SCHEMA,
            "host": self.host,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DiagRun:
        """A run read back from JSON (a remote fieldkit's output); ValueError when it is not
        a ``fieldkit.diag/1`` run."""
        if not isinstance(data, dict) or data.get("schema") != RUN_SCHEMA:
            raise ValueError(f"not a {RUN_SCHEMA} run")
        try:
            return cls(str(data["host"]), str(data["started_at"]), float(data["duration_s"]),
                       [Finding.from_dict(f) for f in data["findings"]])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed {RUN_SCHEMA} run ({exc!r})") from None


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def hostname() -> str:
    return platform.node() or "unknown"
