"""Moderation tables: domain blocks, reports, what moderators did, and its lasting effects
(hidden content, residents' warnings and suspensions, limited or suspended remote accounts)."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow


class DomainBlock(Base):
    """A block of a remote domain (and its subdomains), with Mastodon's severities and flags."""

    __tablename__ = "domain_blocks"

    #: host or host:port, normalised (lower case, punycode, no trailing dot)
    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: noop, silence or suspend
    severity: Mapped[str] = mapped_column(String(16))
    reject_media: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reports: Mapped[bool] = mapped_column(Boolean, default=False)
    #: shown on the public moderation page
    public_comment: Mapped[str] = mapped_column(Text, default="")
    #: for the admins only
    private_comment: Mapped[str] = mapped_column(Text, default="")
    #: the public page shows the domain partly hidden (ex*mple.com)
    obfuscate: Mapped[bool] = mapped_column(Boolean, default=False)
    #: admin (the admin page), import (a block list) or config (federation.blocked_domains)
    source: Mapped[str] = mapped_column(String(16), default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Report(Base):
    """A report about a local item, comment or account, or a remote post or account: made by a
    resident, or received from another server as a Flag."""

    __tablename__ = "moderation_reports"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    #: local (a resident reported it) or remote (a Flag from another server)
    origin: Mapped[str] = mapped_column(String(16))
    reporter_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    #: the actor of a received Flag (usually the other server's instance actor)
    reporter_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    flag_activity_id: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    #: what is reported, and what it is (need, proposal, offer, experiment, comment, note,
    #: remote_post, remote_object, remote_account, local_account)
    target_uri: Mapped[str] = mapped_column(String(2048), index=True)
    target_kind: Mapped[str] = mapped_column(String(32))
    #: the account behind it (the author), local or remote, when known
    account_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    #: JSON list of every URI the report names (a Flag lists an account and posts)
    uris: Mapped[str] = mapped_column(Text, default="[]")
    comment: Mapped[str] = mapped_column(Text, default="")
    #: open, resolved or dismissed
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    #: when a Flag about it was sent to the remote account's server
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ModerationAction(Base):
    """One thing a moderator did: the journal behind the public monthly counts."""

    __tablename__ = "moderation_actions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    #: hide, unhide, warn, suspend_account, unsuspend_account, silence_actor, suspend_actor,
    #: lift_actor, block_domain, unblock_domain, resolve, dismiss, forward
    kind: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="")
    moderator_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    report_id: Mapped[str | None] = mapped_column(
        ForeignKey("moderation_reports.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class HiddenContent(Base):
    """An item or comment hidden by moderation: its page shows the reason in its place."""

    __tablename__ = "hidden_content"

    uri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    hidden_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_by_account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )


class AccountSanction(Base):
    """A warning or a suspension of a resident's account, with the reason they are told."""

    __tablename__ = "account_sanctions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    #: warning or suspension
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: a suspension is in force while this is empty
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RemoteActorSanction(Base):
    """A remote account limited (silence) or suspended by this node's moderation."""

    __tablename__ = "remote_actor_sanctions"

    actor_uri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    #: silence or suspend
    severity: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
