"""The sample's participation chain: needs (supported, commented, triaged), proposals drafted
from them (commented, amended, put in deliberation) and their decisions (votes, closing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from node.demo.context import Demo, SampleInconsistent
from node.demo.model import Comment, DecisionSample, NeedSample, ProposalSample
from node.domain.participation import DecisionMethod, DecisionState
from node.services.participation.decisions import (
    DecisionDraft,
    cast_vote,
    close_due_decisions,
    open_decision,
)
from node.services.participation.needs import (
    answer_need,
    assign_need,
    change_support,
    comment_need,
    merge_need,
    submit_need,
)
from node.services.participation.proposals import (
    comment_proposal,
    decide_amendment,
    draft_proposal,
    move_proposal,
    propose_amendment,
)
from node.storage.models import Amendment, Decision, Need, NeedSupport, Note, Proposal


async def add_needs(demo: Demo, needs: tuple[NeedSample, ...]) -> None:
    """Each need: submitted, supported one day after another, commented, then triaged."""
    runtime = demo.runtime
    for sample in needs:
        when = demo.at(sample.days_ago)
        author = demo.person(sample.author, when)
        need = await submit_need(
            runtime,
            author,
            title=sample.title,
            text=sample.text,
            theme=sample.theme,
            place=sample.place,
        )
        demo.needs[sample.key] = need
        demo.keep("needs", need.id)
        await demo.backdate.stamp(when, need, created=True)
        for number, key in enumerate(sample.supporters):
            supported = demo.at(sample.days_ago - 0.5 - number)
            supporter = demo.person(key, supported)
            await change_support(runtime, supporter, need.id, True)
            await demo.backdate.rows(
                NeedSupport,
                [NeedSupport.need_id == need.id, NeedSupport.account_id == supporter.id],
                created_at=supported,
            )
            demo.counts["supports"] += 1
        for comment in sample.comments:
            note = await comment_need(
                runtime,
                demo.person(comment.author, demo.at(comment.days_ago)),
                need.id,
                comment.text,
            )
            await _date_note(demo, note, comment)
        last = demo.at(min([sample.days_ago, *(c.days_ago for c in sample.comments)]))
        await demo.backdate.stamp(last, need)
        if sample.triage is not None:
            await _triage(demo, need, sample)


async def _triage(demo: Demo, need: Need, sample: NeedSample) -> None:
    assert sample.triage is not None
    triage, runtime = sample.triage, demo.runtime
    when = demo.at(triage.days_ago)
    facilitator = demo.person(triage.by, when)
    if triage.action == "assign":
        await assign_need(runtime, facilitator, need.id, demo.circles[triage.circle].id)
        await demo.backdate.stamp(when, need)
    elif triage.action == "merge":
        target = demo.needs[triage.into]
        await merge_need(runtime, facilitator, need.id, target.id)
        await demo.backdate.stamp(when, need, target)
    elif triage.action == "answer":
        await answer_need(runtime, facilitator, need.id, triage.answer)
        await demo.backdate.stamp(when, need)
    else:
        raise SampleInconsistent(f"unknown triage {triage.action!r}")


async def _date_note(demo: Demo, note: Note, comment: Comment) -> None:
    await demo.backdate.rows(Note, [Note.id == note.id], published=demo.at(comment.days_ago))
    demo.counts["comments"] += 1


async def add_proposals(demo: Demo, proposals: tuple[ProposalSample, ...]) -> None:
    """Each proposal: drafted from its needs, commented, amended, deliberated, decided."""
    runtime = demo.runtime
    for sample in proposals:
        when = demo.at(sample.days_ago)
        needs = [demo.needs[key] for key in sample.needs]
        proposal = await draft_proposal(
            runtime,
            demo.person(sample.author, when),
            circle_id=demo.circles[sample.circle].id,
            title=sample.title,
            summary=sample.summary,
            text=sample.text,
            theme=sample.theme,
            need_ids=[need.id for need in needs],
        )
        demo.proposals[sample.key] = proposal
        demo.keep("proposals", proposal.id)
        await demo.backdate.stamp(when, proposal, created=True)
        await demo.backdate.stamp(when, *needs)
        for comment in sample.comments:
            author = demo.person(comment.author, demo.at(comment.days_ago))
            await _date_note(
                demo, await comment_proposal(runtime, author, proposal.id, comment.text), comment
            )
        await _amend(demo, proposal, sample)
        if sample.deliberation is not None:
            key, days_ago = sample.deliberation
            moved = demo.at(days_ago)
            await move_proposal(
                runtime, demo.person(key, moved), proposal.id, "in_deliberation", ""
            )
            await demo.backdate.stamp(moved, proposal)
        if sample.decision is not None:
            await _decide(demo, proposal, sample.decision)


async def _amend(demo: Demo, proposal: Proposal, sample: ProposalSample) -> None:
    runtime = demo.runtime
    for item in sample.amendments:
        when = demo.at(item.days_ago)
        amendment = await propose_amendment(
            runtime,
            demo.person(item.author, when),
            proposal.id,
            text=item.text,
            rationale=item.rationale,
        )
        demo.keep("amendments", amendment.id)
        await demo.backdate.rows(Amendment, [Amendment.id == amendment.id], created_at=when)
        await demo.backdate.history(when, [amendment.uri])
        if item.accepted_by:
            decided = demo.at(item.accepted_days_ago)
            facilitator = demo.person(item.accepted_by, decided)
            await decide_amendment(runtime, facilitator, amendment.id, accept=True, note=item.note)
            await demo.backdate.rows(Amendment, [Amendment.id == amendment.id], decided_at=decided)
            await demo.backdate.history(decided, [amendment.uri])
            await demo.backdate.stamp(decided, proposal)


async def _decide(demo: Demo, proposal: Proposal, sample: DecisionSample) -> None:
    """Open the decision at its moment, cast the votes, and close it when its time has
    passed (the scheduler's own closing, run at that moment).

    A node serving the same database meanwhile closes every decision whose end has passed:
    a past decision therefore ends ahead while its votes are cast, and gets its real end
    just before it is closed here."""
    runtime = demo.runtime
    opens, closes = demo.at(sample.opens_days_ago), demo.at(sample.closes_days_ago)
    past = closes < demo.clock.now
    draft = DecisionDraft(
        proposal_id=proposal.id,
        question=sample.question,
        method=DecisionMethod(sample.method),
        opens_at=None,
        closes_at=demo.clock.now + timedelta(days=1) if past else closes,
        quorum=sample.quorum,
    )
    facilitator = demo.person(sample.opened_by, opens)
    decision = await open_decision(runtime, facilitator, draft, now=opens)
    demo.keep("decisions", decision.id)
    await demo.backdate.rows(Decision, [Decision.id == decision.id], created_at=opens)
    await demo.backdate.history(opens, [decision.uri])
    for ballot in sample.ballots:
        cast = demo.at(ballot.days_ago)
        voter = demo.person(ballot.person, cast)
        await cast_vote(runtime, voter, decision.id, ballot.choice, ballot.comment, now=cast)
        demo.counts["votes"] += 1
    if past:
        await demo.backdate.rows(Decision, [Decision.id == decision.id], closes_at=closes)
        await _close(demo, proposal, decision, closes)


async def _close(demo: Demo, proposal: Proposal, decision: Decision, closes: datetime) -> None:
    await close_due_decisions(demo.runtime, now=closes + timedelta(seconds=1))
    async with demo.runtime.sessions() as session:
        state = await session.scalar(select(Decision.state).where(Decision.id == decision.id))
    if state != DecisionState.CLOSED:  # closed here, or by a node serving meanwhile
        raise SampleInconsistent(f"the decision {decision.question!r} did not close")
    await demo.backdate.rows(Decision, [Decision.id == decision.id], closed_at=closes)
    await demo.backdate.history(closes, [decision.uri])
    await demo.backdate.stamp(closes, proposal)
