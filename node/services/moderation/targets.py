"""What a reported or moderated URI is: a local item, comment or account, or a remote post,
object or account; with a title, a link and the account behind it, for the queue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from instance_config import InstanceConfig
from node.convert.urls import actor_id
from node.domain.actors import ActorKind
from node.storage.actors import get_actor_by_username
from node.storage.models import (
    Account,
    Experiment,
    LocalActor,
    Need,
    Note,
    Offer,
    Proposal,
    RemoteActor,
    RemoteObject,
)
from protocols.activitystreams import web_link
from protocols.html import stored_html_to_text

#: Kinds of local items, their models and how their pages name them.
ITEM_MODELS: dict[str, type[Need] | type[Proposal] | type[Offer] | type[Experiment]] = {
    "need": Need,
    "proposal": Proposal,
    "offer": Offer,
    "experiment": Experiment,
}
#: Kinds whose content moderation can hide in place.
HIDEABLE = frozenset({*ITEM_MODELS, "comment", "note", "remote_post", "remote_object"})
_TITLE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Target:
    """A moderated thing: its kind, a short title, a link to see it, and the account behind
    it (`account_uri`; `account_id` when it is a resident of this node)."""

    uri: str
    kind: str
    title: str
    link: str
    account_uri: str | None
    account_id: str | None = None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1] + "…"


async def _person_uri(session: AsyncSession, config: InstanceConfig, account_id: str) -> str | None:
    account = await session.get(Account, account_id)
    if account is None or account.actor_id is None:
        return None
    actor = await session.get(LocalActor, account.actor_id)
    return actor_id(config, actor) if actor is not None else None


async def account_of_actor(
    session: AsyncSession, config: InstanceConfig, uri: str | None
) -> Account | None:
    """The resident whose Person actor an URI is, or None."""
    prefix = f"{config.node.base_url}/actors/"
    if uri is None or not uri.startswith(prefix):
        return None
    actor = await get_actor_by_username(session, uri.removeprefix(prefix))
    if actor is None or actor.kind != ActorKind.PERSON:
        return None
    return (await session.scalars(select(Account).where(Account.actor_id == actor.id))).first()


async def find_target(session: AsyncSession, config: InstanceConfig, uri: str) -> Target | None:
    """What `uri` designates on this node, or None when it is nothing moderation can act on."""
    base = config.node.base_url
    uri = uri.strip()
    for kind, model in ITEM_MODELS.items():
        item = (await session.scalars(select(model).where(model.uri == uri))).first()
        if item is not None:
            author = item.created_by if isinstance(item, Experiment) else item.author_id
            return Target(
                uri,
                kind,
                _short(item.title),
                uri.removeprefix(base),
                await _person_uri(session, config, author),
                author,
            )
    note = (await session.scalars(select(Note).where(Note.uri == uri))).first()
    if note is not None:
        return await _note_target(session, config, note)
    remote = (await session.scalars(select(RemoteObject).where(RemoteObject.uri == uri))).first()
    if remote is not None:
        return Target(
            uri,
            "remote_object",
            _short(remote.name or uri),
            web_link(remote.url, remote.uri),
            remote.actor_uri,
        )
    return await _account_target(session, config, uri)


async def _note_target(session: AsyncSession, config: InstanceConfig, note: Note) -> Target:
    base = config.node.base_url
    title = _short(stored_html_to_text(note.content) or note.summary or note.uri)
    if not note.local:
        return Target(note.uri, "remote_post", title, web_link(note.url, note.uri), note.author_uri)
    account = await account_of_actor(session, config, note.author_uri)
    link = (note.url or note.uri).removeprefix(base)
    kind = "comment" if note.in_reply_to else "note"
    return Target(
        note.uri, kind, title, link, note.author_uri, account.id if account is not None else None
    )


async def _account_target(session: AsyncSession, config: InstanceConfig, uri: str) -> Target | None:
    base = config.node.base_url
    prefix = f"{base}/actors/"
    if uri.startswith(prefix):
        actor = await get_actor_by_username(session, uri.removeprefix(prefix))
        if actor is None:
            return None
        account = await account_of_actor(session, config, uri)
        if account is not None:
            return Target(
                uri, "local_account", account.username, uri.removeprefix(base), uri, account.id
            )
        # the territory or a circle: reported like an account, sanctioned through its people
        return Target(uri, "local_actor", actor.display_name, uri.removeprefix(base), uri)
    actor = (await session.scalars(select(RemoteActor).where(RemoteActor.uri == uri))).first()
    if actor is not None:
        handle = f"@{actor.username}@{actor.domain}"
        return Target(uri, "remote_account", handle, web_link(actor.url, actor.uri), uri)
    return None
