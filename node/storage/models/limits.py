"""Abuse-limit tables: login failure counters (shared by every process on one database) and
the refusals an admin reads, counted per kind, key and minute."""

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from node.storage.base import Base, UTCDateTime


class LoginThrottle(Base):
    """Failed logins of one login name or one client address in the current window, and the
    wait or lock they earned; the row goes when both are over (pruned)."""

    __tablename__ = "login_throttles"

    #: account (a case-folded login name, known or not) or address (a client IP)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: no attempt before this moment (the slow-down), or None
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: locked until this moment, or None
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Refusal(Base):
    """How many requests of one kind the node refused for one key in one minute."""

    __tablename__ = "refusals"

    #: login_account, login_address, inbox_host, inbox_actor, posting_need, ...
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: the minute it happened in (seconds cut off)
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
