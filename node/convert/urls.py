"""Every URL the node publishes, built in one place so ids never drift apart."""

from instance_config import InstanceConfig
from node.domain.actors import ActorKind
from node.storage.models import LocalActor

INSTANCE_ACTOR_PATH = "/actor"
SHARED_INBOX_PATH = "/inbox"
ACTOR_COLLECTIONS = ("inbox", "outbox", "followers", "following", "featured")


def actor_id(config: InstanceConfig, actor: LocalActor) -> str:
    """The actor's id: /actor for the instance (Mastodon's convention), /actors/<handle> else."""
    if actor.kind == ActorKind.INSTANCE:
        return config.node.base_url + INSTANCE_ACTOR_PATH
    return f"{config.node.base_url}/actors/{actor.username}"


def actor_page_url(config: InstanceConfig, actor: LocalActor) -> str:
    """The HTML page people are sent to: the home page for the territory, the actor URL else."""
    if actor.kind == ActorKind.TERRITORY:
        return config.node.base_url + "/"
    return actor_id(config, actor)


def collection_url(config: InstanceConfig, actor: LocalActor, name: str) -> str:
    """URL of one of the actor's collections (inbox, outbox, followers, following, featured)."""
    return f"{actor_id(config, actor)}/{name}"


def shared_inbox_url(config: InstanceConfig) -> str:
    """The node's shared inbox, where peers deliver once for all local recipients."""
    return config.node.base_url + SHARED_INBOX_PATH


def handle_of(config: InstanceConfig, actor: LocalActor) -> str:
    """user@domain as written in the fediverse (without the leading @)."""
    return f"{actor.username}@{config.node.domain}"


def icon_url(config: InstanceConfig, actor: LocalActor) -> str:
    """The actor's avatar: PNG, which Mastodon accepts (it refuses SVG)."""
    name = "territory" if actor.kind != ActorKind.PERSON else "person"
    return f"{config.node.base_url}/static/{name}.png"
