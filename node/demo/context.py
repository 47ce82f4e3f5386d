"""What the fill steps share: the runtime, the clock, and what was created so far, by the
sample's keys."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from node.demo.clock import Backdater, Clock
from node.services.runtime import Runtime
from node.storage.models import Account, Circle, Need, Proposal


class SampleInconsistent(ValueError):
    """The sample data asks for something the story does not allow (someone acting before
    joining...): a bug of `data.py`."""


@dataclass
class Demo:
    """The demo in progress."""

    runtime: Runtime
    clock: Clock
    backdate: Backdater
    admin: Account
    accounts: dict[str, Account] = field(default_factory=dict)
    joined: dict[str, datetime] = field(default_factory=dict)
    circles: dict[str, Circle] = field(default_factory=dict)
    needs: dict[str, Need] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    #: ids of everything created, by kind (for the report)
    created: dict[str, list[str]] = field(default_factory=dict)
    #: how many of smaller things were created: supports, comments, votes, measurements...
    counts: Counter[str] = field(default_factory=Counter)

    def at(self, days_ago: float) -> datetime:
        """The sample moment so many days before the demo."""
        return self.clock.at(days_ago)

    def person(self, key: str, when: datetime) -> Account:
        """The account of a sample person, who must have joined by `when`."""
        account = self.accounts.get(key)
        if account is None:
            raise SampleInconsistent(f"unknown person {key!r}")
        if when < self.joined[key]:
            raise SampleInconsistent(f"{key} acts on {when:%Y-%m-%d} before joining")
        return account

    def keep(self, kind: str, identifier: str) -> None:
        """Remember a created object's id under its kind."""
        self.created.setdefault(kind, []).append(identifier)
