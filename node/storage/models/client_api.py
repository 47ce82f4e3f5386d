"""Tables of the Mastodon client API: registered apps, OAuth codes and tokens (only their
sha256 hashes are kept), timeline markers and dismissed notifications."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.domain.ids import new_id
from node.storage.base import Base, UTCDateTime, utcnow


class OAuthApp(Base):
    """A client application registered with POST /api/v1/apps (never garbage-collected)."""

    __tablename__ = "oauth_apps"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: sha256 of the client secret: the secret itself is shown once, at registration
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    #: JSON list of the registered redirect URIs
    redirect_uris: Mapped[str] = mapped_column(Text)
    #: space-separated scopes the app may ask for
    scopes: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OAuthCode(Base):
    """An authorization code given at /oauth/authorize, exchanged once at /oauth/token."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scopes: Mapped[str] = mapped_column(String(1000))
    #: PKCE (RFC 7636): the S256 challenge, when the client sent one
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OAuthToken(Base):
    """A bearer token: an account's (authorization code or password grant) or an app's own
    (client credentials, no account)."""

    __tablename__ = "oauth_tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    scopes: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ClientMarker(Base):
    """Where an account stopped reading a timeline (GET/POST /api/v1/markers)."""

    __tablename__ = "client_markers"
    __table_args__ = (UniqueConstraint("account_id", "timeline"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    #: home or notifications; "cleared_notifications" marks POST /notifications/clear
    timeline: Mapped[str] = mapped_column(String(32))
    last_read_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DismissedNotification(Base):
    """A notification an account dismissed (notifications are derived from follows,
    posts, reactions and decisions: only their dismissal is stored)."""

    __tablename__ = "dismissed_notifications"
    __table_args__ = (UniqueConstraint("account_id", "notification_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    notification_id: Mapped[str] = mapped_column(String(64))
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
