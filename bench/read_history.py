"""History for the read benchmark, on top of the sample territory (`maillage demo`): more
needs and proposals made through the node's own services (so they have their state changes,
their federation log and their activity entries, as residents' would), and posts received
from an account the territory follows, converted by the node's own converter (HTML
sanitised as on receipt) and stored as the inbox would store them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from instance_config import InstanceConfig
from node.convert.needs import THEMES
from node.convert.notes import note_from_as
from node.convert.objects import territory_uri
from node.services.participation.needs import submit_need
from node.services.participation.proposals import draft_proposal
from node.services.standalone import standalone_runtime
from node.storage.base import utcnow
from node.storage.models import Account, Circle, Follow, RemoteActor

REMOTE = "http://127.0.0.1:9/users/voisine"


@dataclass(frozen=True, slots=True)
class History:
    """How much to add."""

    needs: int
    proposals: int
    received: int


async def add_history(config: InstanceConfig, history: History) -> None:
    """Add `history.needs` needs (of which `history.proposals` become proposals) by the
    node's admin, and `history.received` posts from a followed remote account."""
    async with standalone_runtime(config) as runtime:
        async with runtime.sessions() as session:
            admin = await session.scalar(select(Account).where(Account.role == "admin"))
            circle = await session.scalar(select(Circle).order_by(Circle.name))
        assert admin is not None and circle is not None, "run `maillage demo` first"
        themes = list(THEMES)
        for number in range(history.needs):
            need = await submit_need(
                runtime,
                admin,
                title=f"Besoin n°{number} : un abri pour les vélos près de l'école",
                text=f"Texte du besoin {number}.\n\nAvec un lien https://example.org/{number}",
                theme=themes[number % len(themes)],
            )
            if number < history.proposals:
                await draft_proposal(
                    runtime,
                    admin,
                    circle_id=circle.id,
                    title=f"Proposition n°{number}",
                    summary=f"Résumé de la proposition {number}",
                    text=f"Texte de la proposition {number}.",
                    theme=need.theme,
                    need_ids=[need.id],
                )
        async with runtime.sessions.begin() as session:
            session.add(
                RemoteActor(
                    uri=REMOTE,
                    domain="127.0.0.1:9",
                    type="Person",
                    username="voisine",
                    name="Voisine",
                    inbox=f"{REMOTE}/inbox",
                    raw="{}",
                )
            )
            session.add(
                Follow(
                    follower_uri=territory_uri(config),
                    followed_uri=REMOTE,
                    activity_uri=f"{territory_uri(config)}#follows/voisine",
                    state="accepted",
                    accepted_at=utcnow(),
                )
            )
            start = utcnow() - timedelta(days=history.received)
            for number in range(history.received):
                document = {
                    "id": f"{REMOTE}/statuses/{number}",
                    "type": "Note",
                    "attributedTo": REMOTE,
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "content": f'<p>Message {number} <a href="https://example.org/{number}">'
                    f'un lien</a> <script>alert({number})</script><span class="h-card">'
                    "@territoire</span></p>",
                }
                session.add(note_from_as(document, start + timedelta(days=number)))
