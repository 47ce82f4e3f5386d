"""The sample's offers and requests (with replies, one taken, one closed) and the
territory's announcements."""

from __future__ import annotations

from node.demo.context import Demo
from node.demo.model import Announcement, OfferSample
from node.services.federation.announcements import announce
from node.services.participation.offer_replies import reply_to_offer
from node.services.participation.offers import OfferDraft, change_offer_state, publish_offer
from node.storage.models import Note


async def add_offers(demo: Demo, offers: tuple[OfferSample, ...]) -> None:
    """Publish each offer or request, its replies, and what its author did with it."""
    runtime, clock = demo.runtime, demo.clock
    for sample in offers:
        when = demo.at(sample.days_ago)
        author = demo.person(sample.author, when)
        draft = OfferDraft(
            purpose=sample.purpose,
            kind=sample.kind,
            title=sample.title,
            text=sample.text,
            available_from=(
                clock.day(-sample.available_from) if sample.available_from is not None else None
            ),
            available_until=(
                clock.day(-sample.available_until) if sample.available_until is not None else None
            ),
            place=sample.place,
            quantity=sample.quantity,
            minimum_quantity=sample.minimum_quantity,
            unit=sample.unit,
            addressed_to=(),
        )
        offer = await publish_offer(runtime, author, draft)
        demo.keep("offers", offer.id)
        await demo.backdate.stamp(when, offer, created=True)
        for reply in sample.replies:
            replied = demo.at(reply.days_ago)
            note = await reply_to_offer(
                runtime, demo.person(reply.author, replied), offer.id, reply.text
            )
            await demo.backdate.rows(Note, [Note.id == note.id], published=replied)
            demo.counts["replies"] += 1
        if sample.outcome is not None:
            state, days_ago, why = sample.outcome
            await change_offer_state(runtime, author, offer.id, state, why)
            await demo.backdate.stamp(demo.at(days_ago), offer)
            demo.counts[f"offers {state}"] += 1


async def add_announcements(demo: Demo, announcements: tuple[Announcement, ...]) -> None:
    """The territory's public notes."""
    for item in announcements:
        note = await announce(demo.runtime, item.text)
        await demo.backdate.rows(Note, [Note.id == note.id], published=demo.at(item.days_ago))
        demo.counts["announcements"] += 1
