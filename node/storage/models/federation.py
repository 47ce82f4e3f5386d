"""Federation tables: remote actors, keys, received activities, follows, posts, outbox log."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow


class RemoteActor(Base):
    """A cached copy of an actor on another server, refreshed on Update or when stale."""

    __tablename__ = "remote_actors"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    type: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(2048), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    icon_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    inbox: Mapped[str] = mapped_column(String(2048))
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    outbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    followers_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the actor document as fetched (sanitised on render, never trusted for HTML)
    raw: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteKey(Base):
    """A public key of a remote actor, found by the keyId a signature names."""

    __tablename__ = "remote_keys"

    key_id: Mapped[str] = mapped_column(String(2048), primary_key=True)
    owner_uri: Mapped[str] = mapped_column(String(2048), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboxItem(Base):
    """An activity received and authenticated, stored raw before its effects are applied."""

    __tablename__ = "inbox_items"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    object_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    raw: Mapped[str] = mapped_column(Text)
    #: pending -> applied | ignored | failed; held: waiting for its target (Undo/Delete early)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the process applying it (PostgreSQL, several processes), until `lease_until`: past
    #: that moment the item is due again, so a process killed mid-way loses nothing
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Follow(Base):
    """A follow between a local and a remote actor, in either direction."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_uri", "followed_uri"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    follower_uri: Mapped[str] = mapped_column(String(2048), index=True)
    followed_uri: Mapped[str] = mapped_column(String(2048), index=True)
    #: the Follow activity's id, which Accept/Reject/Undo refer to
    activity_uri: Mapped[str] = mapped_column(String(2048))
    #: pending, accepted or rejected
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Note(Base):
    """A post: the territory's announcements, and remote notes, replies and mentions."""

    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    author_uri: Mapped[str] = mapped_column(String(2048), index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    #: sanitised HTML
    content: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: public, unlisted, followers or direct
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    #: JSON lists of addressees and of mentioned actor URIs
    to: Mapped[str] = mapped_column(Text, default="[]")
    cc: Mapped[str] = mapped_column(Text, default="[]")
    mentions: Mapped[str] = mapped_column(Text, default="[]")
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Reaction(Base):
    """A Like or an Announce of one of our objects (or a remote one we know)."""

    __tablename__ = "reactions"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    activity_uri: Mapped[str] = mapped_column(String(2048), unique=True)
    #: like or announce
    kind: Mapped[str] = mapped_column(String(16))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    object_uri: Mapped[str] = mapped_column(String(2048), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEntry(Base):
    """One activity to send, in the append-only outbox log; `seq` orders everything."""

    __tablename__ = "outbox_entries"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    activity_id: Mapped[str] = mapped_column(String(2048), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    #: the object the activity is about, so later Updates/Deletes can supersede earlier ones
    object_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    actor_id: Mapped[str] = mapped_column(ForeignKey("local_actors.id"))
    #: the activity as JSON, unsigned: signatures are made at send time
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxTarget(Base):
    """An inbox an outbox entry goes to (shared inboxes already collapsed)."""

    __tablename__ = "outbox_targets"
    __table_args__ = (
        UniqueConstraint("seq", "inbox"),
        Index("ix_outbox_targets_host_id", "host", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int] = mapped_column(ForeignKey("outbox_entries.seq", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))
    inbox: Mapped[str] = mapped_column(String(2048))


class DeliveryCursor(Base):
    """How far delivery to one host has gone in the outbox log, and its health."""

    __tablename__ = "delivery_cursors"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: every target of this host with id <= last_target_id is done (delivered or given up)
    last_target_id: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    given_up: Mapped[int] = mapped_column(BigInteger, default=0)
    #: the one process delivering to this host, until `lease_until` (renewed while it works;
    #: another process takes the host over once the lease has expired)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
