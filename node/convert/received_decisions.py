"""Other territories' decisions as received (their `Question`, node/convert/decisions.py on
their side), and the poll answer a resident of ours sends to one of them.

The answer has the shape Mastodon gives its poll votes (interop.md 3.3): a `Create` of a
`Note` whose `name` is the option and `inReplyTo` the Question, addressed to the Question's
publisher only; the publisher counts it in its separate, non-binding tally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from instance_config import InstanceConfig
from node.convert.activities import make_activity
from node.convert.received import moment_of
from protocols.activitystreams import as_list
from protocols.html import html_to_text

#: What a page shows of a received Question at most (Mastodon truncates options at 500).
MAX_OPTIONS = 20
MAX_OPTION_CHARS = 500

#: A closed decision's `outcome` (decision_to_as) as French sentences; pages translate them.
OUTCOME_LABELS = {
    "adopted": "Proposition adoptée.",
    "not_adopted": "Proposition non adoptée.",
    "no_quorum": "Proposition non adoptée : quorum non atteint.",
}


@dataclass(frozen=True, slots=True)
class ReceivedQuestion:
    """What a page shows of another territory's decision: its options, times and result."""

    #: the options' names, in order (answers name one of them)
    options: tuple[str, ...]
    opens_at: datetime | None
    closes_at: datetime | None
    #: closed by its territory (a closing Update arrived)
    closed: bool
    #: binding count per option, once closed
    counts: dict[str, int] = field(default_factory=dict)
    #: adopted, not_adopted or no_quorum once closed; "" when unknown
    outcome: str = ""
    #: how many people outside the territory answered (non-binding)
    external_total: int = 0

    def state(self, now: datetime) -> str:
        """open, scheduled or closed at `now`: by its territory's word, then by its times
        (a decision past its closing time is closed even before the closing Update)."""
        if self.closed or (self.closes_at is not None and now >= self.closes_at):
            return "closed"
        if self.opens_at is not None and now < self.opens_at:
            return "scheduled"
        return "open"


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def _options(document: dict[str, Any]) -> list[tuple[str, int]]:
    """(name, count) of each well-formed option of `oneOf` (or `anyOf`)."""
    found: list[tuple[str, int]] = []
    for option in as_list(document.get("oneOf") or document.get("anyOf"))[:MAX_OPTIONS]:
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            continue
        name = html_to_text(option["name"]).strip()[:MAX_OPTION_CHARS]
        replies = option.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else None
        if name and name not in (known for known, _ in found):
            found.append((name, _count(total)))
    return found


def question_from_as(document: dict[str, Any]) -> ReceivedQuestion:
    """The parts of a received `Question` a page shows, each checked."""
    options = _options(document)
    closed = document.get("lifecycleState") == "closed" or bool(document.get("closed"))
    outcome = document.get("outcome")
    tally = document.get("externalTally")
    external = sum(_count(v) for v in tally.values()) if isinstance(tally, dict) else 0
    return ReceivedQuestion(
        options=tuple(name for name, _ in options),
        opens_at=moment_of(document.get("startTime")),
        closes_at=moment_of(document.get("endTime")),
        closed=closed,
        counts=dict(options) if closed else {},
        outcome=outcome if closed and outcome in OUTCOME_LABELS else "",
        external_total=external,
    )


def poll_answer(
    config: InstanceConfig,
    voter: str,
    question_uri: str,
    publisher: str,
    option: str,
    answer_id: str,
) -> dict[str, Any]:
    """The `Create` of a resident's answer to another territory's Question, as Mastodon sends
    a poll vote: a Note with `name` = the option, no content, to the Question's publisher.

    >>> from instance_config import parse_config
    >>> from pathlib import Path
    >>> config = parse_config({"node": {"base_url": "https://b.example"},
    ...     "territory": {"name": "B"}, "database": {"url": "sqlite:///x"}}, Path("/tmp"), {})
    >>> create = poll_answer(config, "https://b.example/actors/ana", "https://a.example/d/1",
    ...                      "https://a.example/actors/territoire", "Pour", "01j")
    >>> create["type"], create["to"], create["object"]["name"], create["object"]["id"]
    ('Create', ['https://a.example/actors/territoire'], 'Pour', 'https://b.example/actors/ana#votes/01j')
    """
    note = {
        "id": f"{voter}#votes/{answer_id}",
        "type": "Note",
        "attributedTo": voter,
        "to": [publisher],
        "name": option,
        "inReplyTo": question_uri,
    }
    return make_activity(config, "Create", voter, note, to=[publisher])
