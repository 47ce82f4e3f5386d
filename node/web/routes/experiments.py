"""Pages and forms of the participation chain: experiments, their indicators, measurements,
milestones, lifecycle and evaluation, and the adoption of other territories' experiments.

The same URLs serve ActivityPub documents when asked for JSON. Facilitator forms post to
/experiments/<id>/<action>; a problem re-renders the page with the reason next to the field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from node.convert.experiments import (
    DIRECTIONS,
    OUTCOMES,
    PAGE_LABELS,
    RECOMMENDATIONS,
    STATE_ACTIONS,
)
from node.domain.forms import Form, FormInvalid
from node.services.moderation.visibility import moderation_marks
from node.services.participation.evaluations import EvaluationInput, evaluate
from node.services.participation.experiment_pages import (
    evaluation_as_document,
    evaluation_page,
    experiment_as_document,
    experiment_listing,
    experiment_page,
    new_experiment_choices,
    replications_as_document,
)
from node.services.participation.experiments import (
    ExperimentInput,
    IndicatorInput,
    NoSuchExperiment,
    add_indicator,
    add_milestone,
    change_state,
    complete_milestone,
    create_experiment,
    ensure_facilitator,
    record_measurement,
    set_progress,
    update_indicator,
)
from node.services.participation.needs import FACILITATORS_ONLY, NotAllowed, ParticipationError
from node.services.participation.received_experiments import received_experiment
from node.services.participation.replication import AdoptionInput, adopt_experiment
from node.services.runtime import Runtime
from node.storage.models import Account
from node.web.auth import current_account, require_role
from node.web.charts import ReferenceLine, format_number, line_chart
from node.web.keys import runtime_key, sessions_key
from node.web.negotiation import activity_response, wants_activitypub
from node.web.render import render

routes = web.RouteTableDef()

_ID = "{id:[0-9a-z]{26}}"
#: How many indicator rows the new-experiment form offers (more can be added later).
INDICATOR_ROWS = 3
LABELS = PAGE_LABELS
Posted = MultiDictProxy[Any]
UNKNOWN_OUTCOME = "Choisissez un des résultats proposés : succès, partiel, échec, non concluant."
#: where the page scrolls back to after a form, when not the section named like the form
ANCHORS = {"measurement": "indicators", "indicator-edit": "indicators"}


def _me(request: web.Request) -> Account | None:
    signed = current_account(request)
    return signed.account if signed else None


def _refused(request: web.Request, reason: str) -> web.Response:
    """A facilitator-only action by someone else: a clear page, 403."""
    return render(request, "error.html", {"title": "Erreur", "reason": reason}, status=403)


def _problems(exc: ParticipationError) -> dict[str, str]:
    return {exc.field or "form": exc.message}


def _read_indicator(form: Form, prefix: str = "") -> IndicatorInput:
    name = form.text(f"{prefix}name")
    unit = form.text(f"{prefix}unit", max_length=64)
    baseline = form.number(f"{prefix}baseline")
    target = form.number(f"{prefix}target")
    direction = form.choice(f"{prefix}direction", DIRECTIONS)
    return IndicatorInput(name, unit, baseline or 0.0, target or 0.0, direction)


def _read_period(form: Form) -> tuple[date, date]:
    starts_on = form.day("starts_on")
    ends_on = form.day("ends_on")
    if starts_on and ends_on:
        form.check(ends_on >= starts_on, "ends_on", "La fin doit suivre le début.")
    return starts_on or date.min, ends_on or date.min


def _read_experiment(form: Form) -> ExperimentInput:
    title = form.text("title")
    hypothesis = form.text("hypothesis", max_length=5000)
    starts_on, ends_on = _read_period(form)
    circle = form.text("circle", max_length=26)
    rows = []
    for row in range(INDICATOR_ROWS):
        prefix = f"indicator-{row}-"
        if any(
            str(form.data.get(f"{prefix}{k}", "")).strip()
            for k in ("name", "unit", "baseline", "target")
        ):
            rows.append(_read_indicator(form, prefix))
    form.raise_if_invalid()
    return ExperimentInput(title, hypothesis, starts_on, ends_on, circle, tuple(rows))


@routes.get("/experiments")
async def experiments_get(request: web.Request) -> web.StreamResponse:
    """Our experiments, and those received from the territories we follow, with their
    outcomes; ?outcome=success (or partial, failure, inconclusive) keeps only those."""
    outcome = request.query.get("outcome", "")
    if outcome and outcome not in OUTCOMES:
        raise web.HTTPBadRequest(text=UNKNOWN_OUTCOME)
    listing = await experiment_listing(request.app[sessions_key], _me(request), outcome)
    context = {"listing": listing, "labels": LABELS, "outcomes": OUTCOMES}
    return render(request, "experiments/list.html", context | {"number": format_number})


async def _new_form(
    request: web.Request, account: Account, posted: Posted | None, errors: dict[str, str]
) -> web.Response:
    proposal_id = str(posted.get("proposal", "")) if posted else request.query.get("proposal")
    choices = await new_experiment_choices(request.app[sessions_key], account, proposal_id)
    if not choices.may_facilitate:
        return _refused(request, FACILITATORS_ONLY)
    values: dict[str, Any] = dict(posted) if posted else {}
    if choices.proposal and not posted:
        values = {"title": choices.proposal.title, "circle": choices.proposal.circle_id}
    return render(
        request,
        "experiments/new.html",
        {"choices": choices, "values": values, "errors": errors, "rows": INDICATOR_ROWS}
        | {"labels": LABELS},
        status=400 if errors else 200,
    )


@routes.get("/experiments/new")
async def new_get(request: web.Request) -> web.StreamResponse:
    """Start an experiment: pick an adopted proposal, then describe the experiment."""
    return await _new_form(request, require_role(request).account, None, {})


@routes.post("/experiments/new")
async def new_post(request: web.Request) -> web.StreamResponse:
    """Create the experiment; the proposal goes in_project."""
    account = require_role(request).account
    posted = await request.post()
    try:
        data = _read_experiment(Form(posted))
        experiment = await create_experiment(
            request.app[runtime_key], account, str(posted.get("proposal", "")), data
        )
    except FormInvalid as exc:
        return await _new_form(request, account, posted, exc.errors)
    except NotAllowed as exc:
        return _refused(request, exc.message)
    except ParticipationError as exc:
        return await _new_form(request, account, posted, _problems(exc))
    except NoSuchExperiment:
        raise web.HTTPNotFound(text="Cette proposition n'existe pas.") from None
    raise web.HTTPFound(f"/experiments/{experiment.id}")


async def _adopt_form(
    request: web.Request, account: Account, values: dict[str, Any], errors: dict[str, str]
) -> web.Response:
    choices = await new_experiment_choices(request.app[sessions_key], account, None)
    if not choices.may_facilitate:
        return _refused(request, FACILITATORS_ONLY)
    url = str(values.get("url", ""))
    received = await received_experiment(request.app[sessions_key], url) if url else None
    context = {"choices": choices, "values": values, "errors": errors, "received": received}
    return render(
        request,
        "experiments/adopt.html",
        context | {"labels": LABELS, "number": format_number},
        status=400 if errors else 200,
    )


@routes.get("/experiments/adopt")
async def adopt_get(request: web.Request) -> web.StreamResponse:
    """Adopt another territory's experiment: its URL (pasted, or picked from the list)."""
    account = require_role(request).account
    return await _adopt_form(request, account, {"url": request.query.get("url", "")}, {})


@routes.post("/experiments/adopt")
async def adopt_post(request: web.Request) -> web.StreamResponse:
    """Create the local replica and tell the original's territory."""
    account = require_role(request).account
    posted = await request.post()
    form = Form(posted)
    url = form.web_url("url")
    adaptations = form.text("adaptations", max_length=5000)
    title = form.text("title", required=False)
    starts_on, ends_on = _read_period(form)
    circle = form.text("circle", required=False, max_length=26)
    try:
        form.raise_if_invalid()
        experiment = await adopt_experiment(
            request.app[runtime_key],
            account,
            AdoptionInput(url, adaptations, starts_on, ends_on, circle or None, title),
        )
    except FormInvalid as exc:
        return await _adopt_form(request, account, dict(posted), exc.errors)
    except NotAllowed as exc:
        return _refused(request, exc.message)
    except ParticipationError as exc:
        return await _adopt_form(request, account, dict(posted), _problems(exc))
    raise web.HTTPFound(f"/experiments/{experiment.id}")


async def _experiment_html(
    request: web.Request, failed: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    page = await experiment_page(request.app[sessions_key], request.match_info["id"], _me(request))
    if page is None:
        raise web.HTTPNotFound(text="Cette expérimentation n'existe pas.")
    context = {"page": page, "failed": failed or {}, "labels": LABELS}
    context["marks"] = await moderation_marks(request.app[sessions_key], [page.experiment.uri])
    context |= {"chart": line_chart, "Reference": ReferenceLine, "number": format_number}
    return render(request, "experiments/experiment.html", context, status=status)


@routes.get(f"/experiments/{_ID}")
async def experiment_get(request: web.Request) -> web.StreamResponse:
    """The Article for servers; the page with indicators, history and replications for people."""
    if wants_activitypub(request):
        document = await experiment_as_document(request.app[runtime_key], request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such experiment on this node")
        return activity_response(document)
    return await _experiment_html(request)


@routes.get(f"/experiments/{_ID}/replications")
async def replications_get(request: web.Request) -> web.StreamResponse:
    """The replicas' ids for servers; people go to the page's replications section."""
    experiment_id = request.match_info["id"]
    if not wants_activitypub(request):
        raise web.HTTPFound(f"/experiments/{experiment_id}#replications")
    document = await replications_as_document(request.app[runtime_key], experiment_id)
    if document is None:
        raise web.HTTPNotFound(text="no such experiment on this node")
    return activity_response(document)


Act = Callable[[Runtime, Account, str, Form], Awaitable[None]]


async def _act(request: web.Request, name: str, act: Act, key: str = "") -> web.StreamResponse:
    """Run a facilitator's form on an experiment: refusal, field errors, or back to the page."""
    account = require_role(request).account
    experiment_id = request.match_info["id"]
    runtime = request.app[runtime_key]
    try:
        await ensure_facilitator(runtime, account, experiment_id)
        posted = await request.post()
        form = Form(posted)
        await act(runtime, account, experiment_id, form)
    except NotAllowed as exc:
        return _refused(request, exc.message)
    except NoSuchExperiment:
        raise web.HTTPNotFound(text="Cette expérimentation n'existe pas.") from None
    except (FormInvalid, ParticipationError) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else _problems(exc)
        key = key or str(posted.get("indicator", ""))
        failed = {"form": name, "key": key, "errors": errors, "values": dict(posted)}
        return await _experiment_html(request, failed, status=400)
    raise web.HTTPFound(f"/experiments/{experiment_id}#{ANCHORS.get(name, name)}")


@routes.post(f"/experiments/{_ID}/state")
async def state_post(request: web.Request) -> web.StreamResponse:
    """Start, pause, resume, or send to evaluation."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        wanted = form.choice("to", tuple(STATE_ACTIONS))
        note = form.text("note", required=False, max_length=500)
        form.raise_if_invalid()
        await change_state(runtime, account, experiment_id, wanted, note)

    return await _act(request, "lifecycle", act)


@routes.post(f"/experiments/{_ID}/indicators")
async def indicator_post(request: web.Request) -> web.StreamResponse:
    """Add an indicator."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        data = _read_indicator(form)
        form.raise_if_invalid()
        await add_indicator(runtime, account, experiment_id, data)

    return await _act(request, "indicators", act, key="new")


@routes.post(f"/experiments/{_ID}/indicators/{{indicator:[0-9a-z]{{26}}}}")
async def indicator_edit_post(request: web.Request) -> web.StreamResponse:
    """Correct an indicator (name, unit, baseline, target, direction)."""
    indicator_id = request.match_info["indicator"]

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        data = _read_indicator(form)
        form.raise_if_invalid()
        await update_indicator(runtime, account, experiment_id, indicator_id, data)

    return await _act(request, "indicator-edit", act, key=indicator_id)


@routes.post(f"/experiments/{_ID}/measurements")
async def measurement_post(request: web.Request) -> web.StreamResponse:
    """Record an indicator's value on a day."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        indicator = form.text("indicator", max_length=26)
        value = form.number("value")
        day = form.day("measured_on")
        note = form.text("note", required=False, max_length=500)
        form.raise_if_invalid()
        assert value is not None and day is not None
        await record_measurement(runtime, account, experiment_id, indicator, value, day, note)

    return await _act(request, "measurement", act)


@routes.post(f"/experiments/{_ID}/milestones")
async def milestone_post(request: web.Request) -> web.StreamResponse:
    """Plan a milestone."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        title = form.text("title")
        due = form.day("due_on", required=False)
        form.raise_if_invalid()
        await add_milestone(runtime, account, experiment_id, title, due)

    return await _act(request, "milestones", act)


@routes.post(f"/experiments/{_ID}/milestones/{{milestone:[0-9a-z]{{26}}}}/done")
async def milestone_done_post(request: web.Request) -> web.StreamResponse:
    """Mark a milestone done."""
    milestone_id = request.match_info["milestone"]

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        await complete_milestone(runtime, account, experiment_id, milestone_id)

    return await _act(request, "milestones", act)


@routes.post(f"/experiments/{_ID}/progress")
async def progress_post(request: web.Request) -> web.StreamResponse:
    """Say how far along the experiment is."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        progress = form.number("progress", minimum=0, maximum=100)
        form.raise_if_invalid()
        await set_progress(runtime, account, experiment_id, round(progress or 0))

    return await _act(request, "progress", act)


@routes.post(f"/experiments/{_ID}/evaluation")
async def evaluation_post(request: web.Request) -> web.StreamResponse:
    """Conclude the experiment with its evaluation."""

    async def act(runtime: Runtime, account: Account, experiment_id: str, form: Form) -> None:
        outcome = form.choice("outcome", OUTCOMES)
        recommendation = form.choice("recommendation", RECOMMENDATIONS)
        lessons = form.text("lessons", max_length=5000)
        form.raise_if_invalid()
        data = EvaluationInput(outcome, lessons, recommendation)
        await evaluate(runtime, account, experiment_id, data)

    return await _act(request, "evaluation", act)


@routes.get(f"/evaluations/{_ID}")
async def evaluation_get(request: web.Request) -> web.StreamResponse:
    """An evaluation: the Article for servers, a page for people."""
    if wants_activitypub(request):
        document = await evaluation_as_document(request.app[runtime_key], request.match_info["id"])
        if document is None:
            raise web.HTTPNotFound(text="no such evaluation on this node")
        return activity_response(document)
    found = await evaluation_page(request.app[sessions_key], request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text="Cette évaluation n'existe pas.")
    evaluation, experiment = found
    context = {"evaluation": evaluation, "experiment": experiment, "labels": LABELS}
    return render(request, "experiments/evaluation.html", context)
