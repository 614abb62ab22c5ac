"""What a checklist is, and what a run of it records.

A run keeps a *copy* of the checklist as it was when the run started (``Checklist.to_dict``),
so editing or upgrading the file later never changes a run in progress or its evidence. Every
step of a run ends in one result from one small vocabulary (the diagnostics' statuses plus
``info`` and ``pending``), so renderers, conditions and outcome rules never guess.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUN_SCHEMA = "fieldkit.checklist-run/1"
STEP_KINDS = ("check", "confirm", "input", "choice")
# an input's own types; each targeted kind adds one whose answers are its targets (host-port,
# printer, mail: see input_types)
BASIC_INPUT_TYPES = ("text", "number", "email", "choice", "pattern", "host")
ASKED = ("technician", "user")

# step results: the diagnostics' statuses, plus "info" (answered, no verdict) and "pending"
OK, WARN, FAIL, ERROR, SKIP, INFO, PENDING = "ok", "warn", "fail", "error", "skip", "info", \
    "pending"
RESULTS = (OK, WARN, FAIL, ERROR, SKIP, INFO, PENDING)

IN_PROGRESS, COMPLETED, ABANDONED = "in_progress", "completed", "abandoned"
RUN_STATUSES = (IN_PROGRESS, COMPLETED, ABANDONED)


@dataclass(frozen=True)
class Option:
    """One answer of a ``choice`` step: the value recorded and the words shown."""

    value: str
    label: str


@dataclass(frozen=True)
class Step:
    """One step. Which fields apply depends on ``kind`` (the loader refuses the others)."""

    id: str
    kind: str
    title: str
    help: str = ""
    tip: str = ""  # shown when the step fails: the first thing to try
    mandatory: bool = False
    when: str = ""  # condition on earlier steps; empty: always
    ask: str = "technician"  # who answers a question: the technician or the user
    # check
    check: str = ""
    targets: tuple[str, ...] = ()
    timeout_s: float | None = None
    # confirm
    expect: bool | None = None
    # input
    type: str = "text"
    pattern: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    example: str = ""
    # choice
    options: tuple[Option, ...] = ()
    fail_on: tuple[str, ...] = ()
    default: Any = None

    @property
    def can_fail(self) -> bool:
        return (self.kind == "check" or (self.kind == "confirm" and self.expect is not None)
                or (self.kind == "choice" and bool(self.fail_on)))

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that differ from the defaults: the copy in a run stays readable."""
        data = asdict(self)
        defaults = _STEP_DEFAULTS
        return {k: v for k, v in data.items()
                if k in ("id", "kind", "title") or v != defaults.get(k)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        values = dict(data)
        for name in ("targets", "choices", "fail_on"):
            if name in values:
                values[name] = tuple(values[name])
        if "options" in values:
            values["options"] = tuple(Option(o["value"], o["label"]) for o in values["options"])
        return cls(**{k: v for k, v in values.items() if k in _STEP_FIELDS})


_STEP_FIELDS = set(Step.__dataclass_fields__)
_STEP_DEFAULTS = {k: v for k, v in asdict(Step("", "", "")).items()}


@dataclass(frozen=True)
class Outcome:
    """A rule: when its condition holds, suggest these values for the ticket."""

    when: str = ""
    category: str = ""
    impact: str = ""
    urgency: str = ""
    level: int | None = None
    advice: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    category: str
    version: int
    steps: tuple[Step, ...]
    description: str = ""
    outcomes: tuple[Outcome, ...] = ()
    source: str = ""  # the file it was read from
    builtin: bool = False

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)

    def to_dict(self) -> dict[str, Any]:
        """The copy a run keeps: id + version + every step and rule, as they were."""
        return {"id": self.id, "title": self.title, "category": self.category,
                "version": self.version, "description": self.description,
                "source": self.source, "builtin": self.builtin,
                "steps": [s.to_dict() for s in self.steps],
                "outcomes": [o.to_dict() for o in self.outcomes]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checklist:
        return cls(data["id"], data["title"], data["category"], int(data["version"]),
                   tuple(Step.from_dict(s) for s in data["steps"]),
                   data.get("description", ""),
                   tuple(Outcome(**o) for o in data.get("outcomes", [])),
                   data.get("source", ""), bool(data.get("builtin", False)))


@dataclass
class StepRecord:
    """What happened at one step: the answer, the verdict, the evidence, who and when (UTC)."""

    id: str
    result: str = PENDING
    answer: Any = None
    targets: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""  # why it was skipped, or what the technician typed instead of the default
    by: str = ""
    at: str = ""
    asked: str = ""  # "user" when the technician put the question to the user

    def clear(self) -> None:
        self.result, self.answer, self.targets, self.findings = PENDING, None, [], []
        self.note = self.by = self.at = self.asked = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class ChecklistRun:
    """One run of one checklist, possibly unfinished; stored whole in its own file."""

    id: str
    checklist: Checklist
    records: list[StepRecord]
    started_at: str
    technician: str
    host: str
    status: str = IN_PROGRESS
    updated_at: str = ""
    finished_at: str = ""
    position: int = 0  # the next step to ask
    trail: list[int] = field(default_factory=list)  # steps asked, in order ("back" pops one)
    ticket_id: str = ""
    ticket_ref: str = ""
    ticket_created: bool = False  # the run made its ticket (--new-ticket): suggestions apply
    suggestions: dict[str, Any] = field(default_factory=dict)
    override: dict[str, Any] = field(default_factory=dict)

    def record(self, step_id: str) -> StepRecord:
        return self.records[self.checklist.index(step_id)]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for rec in self.records:
            counts[rec.result] = counts.get(rec.result, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {"schema": RUN_SCHEMA, "id": self.id, "status": self.status,
                "checklist": self.checklist.to_dict(),
                "ticket": {"id": self.ticket_id, "ref": self.ticket_ref,
                           "created": self.ticket_created} if self.ticket_id else None,
                "technician": self.technician, "host": self.host, "started_at": self.started_at,
                "updated_at": self.updated_at, "finished_at": self.finished_at,
                "position": self.position, "trail": list(self.trail),
                "steps": [r.to_dict() for r in self.records],
                "suggestions": self.suggestions, "override": self.override}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChecklistRun:
        ticket = data.get("ticket") or {}
        return cls(data["id"], Checklist.from_dict(data["checklist"]),
                   [StepRecord.from_dict(r) for r in data["steps"]], data["started_at"],
                   data.get("technician", ""), data.get("host", ""), data["status"],
                   data.get("updated_at", ""), data.get("finished_at", ""),
                   int(data.get("position", 0)), list(data.get("trail", [])),
                   ticket.get("id", ""), ticket.get("ref", ""), bool(ticket.get("created")),
                   data.get("suggestions", {}),
                   data.get("override", {}))


def input_types() -> tuple[str, ...]:
    """Every input type: the basic ones, then the targeted kinds' (reach: host-port, ...)."""
    from fieldkit.diagnostics import kinds

    return BASIC_INPUT_TYPES + tuple(k.input_type for k in kinds.all_kinds())
