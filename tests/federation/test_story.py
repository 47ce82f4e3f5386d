"""The participation story end to end (acceptance of the participation chain): two real
`maillage serve` nodes and the strict Fedify peer on loopback.

Everything the people do goes through the nodes' web pages, as a browser does it: a cookie
session per person, each form read from its page (hidden fields, CSRF token, offered choices)
and posted to its action. The admins log in with the one-time password `maillage init`
printed and invite the others; the territories follow each other from the admin page.
B's pages have no reply form for another node's offer: B's territory answers it with
`maillage announce --in-reply-to`, as an admin would.

On A a need becomes a proposal, is decided (the peer's poll answer lands in the non-binding
tally only), becomes an experiment with an indicator and measurements, and is evaluated a
success; B follows A, sees the experiment as an experiment, adopts and evaluates it; A shows
the replication and its outcome; an offer from A is answered from B and closed. The peer
checks, on each object it receives, the fields Mastodon shows: name, summary, url, content for
an Article or a Page; url and content, and neither summary nor name, for a Note or a Question.
"""

from __future__ import annotations

import http.cookiejar
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from protocols.activitystreams import PUBLIC
from tests.testrig.fedify import FedifyPeer
from tests.testrig.nodes import MaillageNode, eventually, inbox_journal

#: How long the decision stays open: the peer's answer and three votes must land before
#: (about half a second here; the test says so if a slow machine needs more).
VOTING_WINDOW = timedelta(seconds=10)
#: The nodes' clock: the territory.timezone `maillage init` writes by default.
TERRITORY_ZONE = ZoneInfo("Europe/Paris")
#: The server's scheduler closes due decisions every 20 s (node/web/app.py
#: `_scheduled_jobs`): the rest of the voting window, one period at most, and a margin.
CLOSING_WAIT = 40.0
#: Deliveries and inbox work between the three processes.
FEDERATION_WAIT = 20.0
#: The fields Mastodon needs to show an Article or a Page (title, status line, link, body)...
MASTODON_FIELDS = ("name", "summary", "url", "content")
#: ... and a Note or a Question, whose summary would be a content warning hiding the text
#: (and whose name GoToSocial uses as one): FEDERATION.md, "What followers see".
POST_FIELDS = ("url", "content")
FOLDING_FIELDS = ("summary", "name")


# -- nodes and people --------------------------------------------------------------------


class StoryNode(MaillageNode):
    """A served node with what the story reads of it beyond MaillageNode."""

    @property
    def admin_password(self) -> str:
        """The first admin's one-time password, as `maillage init` printed it."""
        return self.one_time_password

    @property
    def handle(self) -> str:
        """The territory's handle as people type it."""
        return f"@territoire@{self.domain}"

    def remote_kind(self, uri: str) -> str | None:
        """What the node stored a received object as (read-only look at its database)."""
        with sqlite3.connect(f"file:{self.data / 'maillage.sqlite3'}?mode=ro", uri=True) as db:
            row = db.execute("SELECT kind FROM remote_objects WHERE uri = ?", (uri,)).fetchone()
        return None if row is None else str(row[0])


class Label(str):
    """A choice given by the text the page shows for it (an <option>'s label)."""


class PageForm:
    """One <form> as a browser sees it: what it sends untouched, and what it offers."""

    def __init__(self, action: str, method: str) -> None:
        self.action = action
        self.method = method
        #: (name, value) pairs sent when nothing is changed: hidden and filled inputs,
        #: checked boxes, the selected option, textarea contents
        self.defaults: list[tuple[str, str]] = []
        self.names: set[str] = set()
        #: for selects, radios, checkboxes and named buttons: value -> label
        self.choices: dict[str, dict[str, str]] = {}

    def value(self, name: str) -> str | None:
        return next((v for n, v in self.defaults if n == name), None)

    def fill(self, fields: Mapping[str, str | list[str]]) -> list[tuple[str, str]]:
        """The pairs to post: defaults, with `fields` replacing them; each field must be in
        the form and each choice among those it offers, as in a browser."""
        given: dict[str, list[str]] = {}
        for name, value in fields.items():
            assert name in self.names, (
                f"the form {self.action} has no field {name!r} (it has {sorted(self.names)})"
            )
            values = value if isinstance(value, list) else [value]
            offered = self.choices.get(name)
            if offered is not None:
                resolved = []
                for wanted in values:
                    if isinstance(wanted, Label):
                        matches = [v for v, text in offered.items() if text == wanted]
                        assert matches, f"no choice labelled {wanted!r} for {name}: {offered}"
                        wanted = matches[0]
                    assert wanted in offered, (
                        f"{name}={wanted!r} is not offered by the form {self.action}: {offered}"
                    )
                    resolved.append(wanted)
                values = resolved
            given[name] = values
        pairs = [(name, value) for name, value in self.defaults if name not in given]
        return pairs + [(name, value) for name, values in given.items() for value in values]


class _FormReader(HTMLParser):
    """Every form of a page, with its fields (no JavaScript on these pages)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: dict[str, Any] | None = None
        self._option: list[Any] | None = None
        self._textarea: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = PageForm(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None:
            return
        if tag == "option" and self._select is not None:
            self._end_option()
            self._option = [a.get("value"), [], "selected" in a]
        if not name:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            form.names.add(name)
            if kind in ("checkbox", "radio"):
                value = a.get("value", "on")
                form.choices.setdefault(name, {})[value] = ""
                if "checked" in a:
                    form.defaults.append((name, value))
            elif kind in ("submit", "button", "image", "reset"):
                form.choices.setdefault(name, {})[a.get("value", "")] = ""
            else:
                form.defaults.append((name, a.get("value", "")))
        elif tag == "button":
            form.names.add(name)
            form.choices.setdefault(name, {})[a.get("value", "")] = ""
        elif tag == "select":
            form.names.add(name)
            form.choices[name] = {}
            self._select = {"name": name, "selected": None, "first": None}
        elif tag == "textarea":
            form.names.add(name)
            self._textarea = [name, []]

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[1].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def _end_option(self) -> None:
        if self._option is None or self._select is None or self._form is None:
            return
        value, parts, selected = self._option
        text = " ".join("".join(parts).split())
        value = text if value is None else value
        self._form.choices[self._select["name"]][value] = text
        if selected and self._select["selected"] is None:
            self._select["selected"] = value
        if self._select["first"] is None:
            self._select["first"] = value
        self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._end_option()
        elif tag == "select" and self._select is not None and self._form is not None:
            self._end_option()
            chosen = self._select["selected"] or self._select["first"]
            if chosen is not None:
                self._form.defaults.append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form.defaults.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_of(page: str) -> list[PageForm]:
    reader = _FormReader()
    reader.feed(page)
    reader.close()
    return reader.forms


def alerts_of(page: str) -> list[str]:
    """The problems a page reports (role="alert"), each with the id that ties it to its
    field, for failure messages."""
    found = []
    for tag, text in re.findall(r'(<[^>]*role="alert"[^>]*>)(.*?)</(?:p|div|span|li)>', page, re.S):
        field = re.search(r'id="([^"]*)"', tag)
        found.append(f"{field.group(1) if field else 'page'}: {plain(text)}")
    return found


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Answer redirects as they are: the test reads Location (the new object's address)."""

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_302


class Browser:
    """One person on one node: a cookie jar of their own (cookies ignore ports, and both
    nodes are on 127.0.0.1), pages read as text/html, forms posted as a browser does."""

    def __init__(self, node: StoryNode, who: str) -> None:
        self.node = node
        self.who = who
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect(),
        )

    def open(
        self, method: str, path: str, pairs: list[tuple[str, str]] | None = None
    ) -> tuple[int, str, str]:
        """(status, Location, body) of one request."""
        url = path if path.startswith("http") else self.node.base + path
        data = urllib.parse.urlencode(pairs).encode() if pairs is not None else None
        headers = {"Accept": "text/html", "Accept-Language": "fr"}
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                body = response.read().decode()
                return response.status, response.headers.get("Location", ""), body
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def page(self, path: str) -> str:
        status, _, body = self.open("GET", path)
        assert status == 200, f"{self.who} on {self.node.name}: GET {path} -> {status}"
        return body

    def submit(
        self,
        page_path: str,
        action: str,
        fields: Mapping[str, str | list[str]] | None = None,
        *,
        where: Mapping[str, str] | None = None,
        expect: int = 302,
    ) -> tuple[str, str]:
        """Load the page, fill its form posting to `action` (the one whose fields have the
        values in `where`, when several do), post it; returns (Location, body)."""
        page = self.page(page_path)
        candidates = [f for f in forms_of(page) if f.action == action and f.method == "post"]
        if where:
            candidates = [
                f
                for f in candidates
                if all(f.value(k) == v or v in f.choices.get(k, {}) for k, v in where.items())
            ]
        assert len(candidates) == 1, (
            f"{self.who} on {self.node.name}: {len(candidates)} forms posting to {action} "
            f"on {page_path} (where {where}); forms there: {[f.action for f in forms_of(page)]}"
        )
        status, location, body = self.open("POST", action, candidates[0].fill(fields or {}))
        assert status == expect, (
            f"{self.who} on {self.node.name}: POST {action} -> {status}, expected {expect}; "
            f"the page says {alerts_of(body) or body[:500]!r}"
        )
        return location, body


def log_in_admin(node: StoryNode) -> Browser:
    """The admin's first login with the one-time password, then the forced change."""
    admin = Browser(node, "admin")
    location, _ = admin.submit(
        "/login", "/login", {"username": "admin", "password": node.admin_password}
    )
    assert location == "/account/password", location
    new = "admin-story-password"
    admin.submit(
        "/account/password",
        "/account/password",
        {"current": node.admin_password, "new": new, "repeat": new},
    )
    return admin


def invite(admin: Browser, username: str, display_name: str, role: str) -> Browser:
    """The admin issues an invitation; the invitee joins through the link and is logged in."""
    _, body = admin.submit(
        "/members", "/members/invite", {"note": display_name, "role": role}, expect=201
    )
    found = re.search(r'id="issued-link"[^>]*value="([^"]+)"', body)
    assert found, f"no invitation link on the members page: {alerts_of(body)}"
    link = unescape(found.group(1))
    person = Browser(admin.node, username)
    path = urllib.parse.urlsplit(link).path
    password = f"{username}-story-password"
    location, _ = person.submit(
        path,
        path,
        {
            "username": username,
            "display_name": display_name,
            "password": password,
            "repeat": password,
        },
    )
    assert location.startswith("/account/profile"), location
    return person


def created_id(location: str, prefix: str) -> str:
    """The id at the end of the Location of a created object (/needs/<id>...)."""
    path = urllib.parse.urlsplit(location).path
    assert path.startswith(prefix), f"expected a redirect to {prefix}…, got {location!r}"
    return path.removeprefix(prefix).split("/")[0]


def section(page: str, anchor: str, until: str) -> str:
    """The part of a page from the element with id `anchor` to the one with id `until`."""
    start = page.index(f'id="{anchor}"')
    end = page.index(f'id="{until}"', start)
    return page[start:end]


def table_counts(html: str) -> dict[str, int]:
    """A two-column table of counts: row label -> number."""
    return {
        unescape(label).strip(): int(number)
        for label, number in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', html)
    }


def plain(html: str) -> str:
    """The text of a page, tags dropped, whitespace folded, entities decoded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def missing_fields(entry: dict[str, Any]) -> list[str]:
    """What the received object (as sent) lacks of the fields Mastodon shows for its type,
    and, for a Note or a Question, the fields that would fold it ("no summary")."""
    document = entry["raw"].get("object")
    if not isinstance(document, dict):
        return list(MASTODON_FIELDS)
    if document.get("type") in ("Article", "Page"):
        return [key for key in MASTODON_FIELDS if not document.get(key)]
    missing = [key for key in POST_FIELDS if not document.get(key)]
    return missing + [f"no {key}" for key in FOLDING_FIELDS if key in document]


# -- fixtures ----------------------------------------------------------------------------


def serve(root: Path, name: str) -> Iterator[StoryNode]:
    node = StoryNode(root, name)
    node.start()
    yield node
    lines = node.stop().splitlines()
    # pytest shows this only when the test fails: the node's problems, then its last lines
    problems = [line[:3000] for line in lines if '"level": "info"' not in line]
    print(f"--- {name}: warnings and errors ---", *problems[-20:], sep="\n")
    print(f"--- {name}: last lines of its log ---", *lines[-30:], sep="\n")


@pytest.fixture
def alpha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryNode]:
    yield from serve(tmp_path_factory.mktemp("story"), "Saint-Alpha")


@pytest.fixture
def beta(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryNode]:
    yield from serve(tmp_path_factory.mktemp("story"), "Saint-Beta")


# -- the story ---------------------------------------------------------------------------


def test_the_participation_story_across_two_territories_and_the_fediverse(
    alpha: StoryNode, beta: StoryNode, fedify_peer: FedifyPeer
) -> None:
    a, b, peer = alpha, beta, fedify_peer
    timings: list[tuple[str, float]] = []
    clock = time.monotonic()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings.append((step, round(now - clock, 1)))
        clock = now

    def context() -> str:
        """What the three processes saw: for every failure message."""
        log = [
            (
                entry.get("status"),
                (entry.get("activity") or {}).get("type"),
                entry.get("response", "")[:80],
                (entry.get("http_signature") or {}).get("reason"),
            )
            for entry in peer.inbox_log()
        ]
        return (
            f"\n  peer inbox_log: {log}"
            f"\n  Saint-Alpha inbox: {inbox_journal(a)}"
            f"\n  Saint-Beta inbox: {inbox_journal(b)}"
        )

    def wait(check: Callable[[], Any], what: str, timeout: float = FEDERATION_WAIT) -> Any:
        return eventually(check, lambda: f"{what}{context()}", timeout=timeout)

    def peer_got(activity_type: str, object_id: str, what: str) -> list[dict[str, Any]]:
        """What the peer received from A about this object (waiting for the first)."""
        found = peer.received(
            type=activity_type, actor=a.territory, object=object_id, wait=FEDERATION_WAIT
        )
        assert found, f"the peer never got the {what} ({object_id}){context()}"
        return found

    def check_fields(entry: dict[str, Any], what: str) -> dict[str, Any]:
        document = entry["raw"]["object"]
        assert not missing_fields(entry), (
            f"the {what} reached the peer without {missing_fields(entry)}: {document}"
        )
        return dict(document)

    # -- 0. people: each admin logs in and invites the others -------------------------------
    admin_a, admin_b = log_in_admin(a), log_in_admin(b)
    camille = invite(admin_a, "camille", "Camille Facilitatrice", "facilitator")
    alex = invite(admin_a, "alex", "Alex Habitant", "resident")
    sami = invite(admin_a, "sami", "Sami Habitante", "resident")
    bea = invite(admin_b, "bea", "Béa Facilitatrice", "facilitator")
    lap("accounts")

    # -- 1. follows: the peer and B follow A; A follows B -----------------------------------
    peer.follow(a.acct)
    admin_b.submit("/admin", "/admin/follow", {"target": a.handle, "action": "follow"})
    admin_a.submit("/admin", "/admin/follow", {"target": b.handle, "action": "follow"})
    assert peer.following(target=a.territory, state="accepted", wait=FEDERATION_WAIT), context()

    def followers_of(node: StoryNode) -> list[str]:
        return list(node.json("/actors/territoire/followers?page=1")[1]["orderedItems"])

    def following_of(node: StoryNode) -> list[str]:
        return list(node.json("/actors/territoire/following?page=1")[1]["orderedItems"])

    wait(
        lambda: {peer.actor, b.territory} <= set(followers_of(a)),
        "the peer and Saint-Beta among Saint-Alpha's followers",
    )
    wait(lambda: a.territory in following_of(b), "Saint-Beta's follow of Saint-Alpha accepted")
    wait(lambda: b.territory in following_of(a), "Saint-Alpha's follow of Saint-Beta accepted")
    lap("follows")

    # -- 2. on A: need -> circle -> proposal -> deliberation -> decision ---------------------
    location, _ = alex.submit(
        "/needs/new",
        "/needs",
        {
            "title": "Aller au marché sans voiture",
            "text": "Les hameaux n'ont aucun bus le samedi matin.",
            "theme": Label("Mobilités"),
            "place": "Hameau des Combes",
        },
    )
    need_id = created_id(location, "/needs/")
    need_uri = f"{a.base}/needs/{need_id}"

    location, _ = camille.submit(
        "/circles/new",
        "/circles/new",
        {
            "name": "Cercle des mobilités",
            "slug": "mobilites",
            "kind": "working",
            "mandate": "Trouver des façons de se déplacer sans voiture.",
        },
    )
    circle_path = urllib.parse.urlsplit(location).path
    assert circle_path.startswith("/circles/"), location
    camille.submit(
        f"/needs/{need_id}", f"/needs/{need_id}/assign", {"circle": Label("Cercle des mobilités")}
    )
    location, _ = camille.submit(
        f"/proposals/new?need={need_id}",
        "/proposals",
        {
            "circle": Label("Cercle des mobilités"),
            "needs": [need_id],
            "title": "Navette du samedi",
            "summary": "Un minibus relie les hameaux au marché le samedi matin.",
            "text": "Un minibus de la commune fait deux tours le samedi matin.",
            "theme": Label("Mobilités"),
        },
    )
    proposal_id = created_id(location, "/proposals/")
    proposal_uri = f"{a.base}/proposals/{proposal_id}"
    camille.submit(
        f"/proposals/{proposal_id}",
        f"/proposals/{proposal_id}/state",
        {"state": "in_deliberation", "reason": "Prête à être décidée."},
    )
    need_page = check_fields(peer_got("Create", need_uri, "need's Create")[0], "need")
    assert need_page["type"] == "Page", need_page
    proposal_page = check_fields(
        peer_got("Create", proposal_uri, "proposal's Create")[0], "proposal"
    )
    assert proposal_page["type"] == "Page", proposal_page
    lap("need, circle, proposal")

    closes_at = (datetime.now(TERRITORY_ZONE) + VOTING_WINDOW).replace(microsecond=0)
    location, _ = camille.submit(
        f"/decisions/new?proposal={proposal_id}",
        "/decisions",
        {
            "proposal": proposal_id,
            "question": "Lançons-nous la navette du samedi ?",
            "method": "consent",
            "closes_at": closes_at.replace(tzinfo=None).isoformat(),
            "quorum": "50",
        },
    )
    decision_id = created_id(location, "/decisions/")
    decision_uri = f"{a.base}/decisions/{decision_id}"
    question = check_fields(peer_got("Create", decision_uri, "Question")[0], "Question")
    assert question["type"] == "Question", question
    options = [option.get("name") for option in question.get("oneOf", [])]
    assert options == ["Consentement", "Objection", "Abstention"], question

    # The peer answers the poll as a Mastodon user does: a Note with the option's name
    answer = peer.note(to=[a.territory], name="Consentement", inReplyTo=decision_uri)
    assert answer.get("delivered"), answer
    decision_path = f"/decisions/{decision_id}"

    def external_tally() -> dict[str, int]:
        page = alex.page(decision_path)
        return table_counts(section(page, "external", "history"))

    wait(
        lambda: external_tally().get("Consentement") == 1,
        "the peer's answer in the decision page's non-binding tally",
    )
    page = alex.page(decision_path)
    assert "NON CONTRAIGNANT" in page
    assert "0 votant·e(s) sur" in plain(page), "a remote answer counted as a resident's vote"

    # The residents vote (binding)
    for person, choice in ((alex, "consent"), (sami, "consent"), (camille, "abstain")):
        location, _ = person.submit(decision_path, f"{decision_path}/vote", {"choice": choice})
        assert "voted=1" in location, location
    assert "3 votant·e(s) sur" in plain(alex.page(decision_path))
    assert datetime.now(TERRITORY_ZONE) < closes_at, (
        f"the votes took longer than the {VOTING_WINDOW} voting window: widen it"
    )
    lap("decision opened, answered, voted")

    # The server's scheduler closes it on time: adopted, the peer gets the Update
    def proposal_state() -> str:
        return str(a.json(proposal_uri)[1].get("lifecycleState"))

    wait(lambda: proposal_state() == "adopted", "the proposal adopted at closing", CLOSING_WAIT)
    page = alex.page(decision_path)
    result = section(page, "result", "vote")
    assert "Proposition adoptée." in result, plain(result)
    assert table_counts(result) == {"Consentement": 2, "Objection": 0, "Abstention": 1}, (
        "the binding counts must be the residents' votes only"
    )
    assert table_counts(section(page, "external", "history")) == {
        "Consentement": 1,
        "Objection": 0,
        "Abstention": 0,
    }
    closing = wait(
        lambda: [
            u
            for u in peer.received(type="Update", actor=a.territory, object=decision_uri)
            if u["raw"]["object"].get("lifecycleState") == "closed"
        ],
        "the Update of the closed Question at the peer",
    )
    closed = check_fields(closing[-1], "closed Question")
    assert closed.get("closed"), closed
    assert [o["replies"]["totalItems"] for o in closed["oneOf"]] == [2, 0, 1], closed
    assert closed["externalTally"]["Consentement"] == 1, closed
    lap("decision closed by the scheduler")

    # -- 3. on A: the experiment, its measurements, its evaluation ---------------------------
    location, _ = camille.submit(
        f"/experiments/new?proposal={proposal_id}",
        "/experiments/new",
        {
            "title": "Navette du samedi",
            "hypothesis": "Avec une navette, les habitants des hameaux iront au marché.",
            "starts_on": "2026-05-02",
            "ends_on": "2026-10-31",
            "circle": Label("Cercle des mobilités"),
            "indicator-0-name": "Personnes transportées",
            "indicator-0-unit": "personnes",
            "indicator-0-baseline": "0",
            "indicator-0-target": "40",
            "indicator-0-direction": "increase",
        },
    )
    experiment_id = created_id(location, "/experiments/")
    experiment_uri = f"{a.base}/experiments/{experiment_id}"
    experiment_path = f"/experiments/{experiment_id}"
    camille.submit(experiment_path, f"{experiment_path}/state", {"to": "running"})
    for day, value in (("2026-05-09", "18"), ("2026-05-16", "31")):
        camille.submit(
            experiment_path,
            f"{experiment_path}/measurements",
            {"value": value, "measured_on": day, "note": "comptage du chauffeur"},
        )
    camille.submit(experiment_path, f"{experiment_path}/state", {"to": "evaluating"})
    camille.submit(
        experiment_path,
        f"{experiment_path}/evaluation",
        {
            "outcome": "success",
            "recommendation": "generalise",
            "lessons": "Le bouche-à-oreille a rempli la navette en trois semaines.",
        },
    )
    evaluation_link = re.search(
        r'href="/evaluations/([0-9a-z]{26})"', camille.page(experiment_path)
    )
    assert evaluation_link, "no evaluation on the experiment's page"
    evaluation_uri = f"{a.base}/evaluations/{evaluation_link.group(1)}"

    article = check_fields(peer_got("Create", experiment_uri, "experiment's Create")[0], "exp.")
    assert article["type"] == "Article" and article["additionalType"] == "tc:Experiment", article
    evaluation = check_fields(peer_got("Create", evaluation_uri, "evaluation")[0], "evaluation")
    assert evaluation["type"] == "Article", evaluation
    assert evaluation["additionalType"] == "tc:Evaluation", evaluation
    announcement = wait(
        lambda: [
            e
            for e in peer.received(type="Create", actor=a.territory)
            if e.get("object_type") == "Note"
            and evaluation_uri in str(e["raw"]["object"].get("content", ""))
        ],
        "the success announcement at the peer",
    )[0]["raw"]["object"]
    assert "Expérimentation réussie" in announcement["content"], announcement
    assert announcement.get("url") and experiment_uri in announcement["content"], announcement
    final = wait(
        lambda: [
            u
            for u in peer.received(type="Update", actor=a.territory, object=experiment_uri)
            if u["raw"]["object"].get("lifecycleState") == "concluded"
        ],
        "the Update of the concluded experiment at the peer",
    )
    check_fields(final[-1], "concluded experiment")
    lap("experiment, measurements, evaluation")

    # -- 4. on B: A's experiment received as an experiment, adopted, evaluated ---------------
    def remote_experiments_on_b() -> str:
        return bea.page("/experiments").split('id="remote"', 1)[1]

    listing = wait(
        lambda: (html := remote_experiments_on_b()) and "Navette du samedi" in html and html,
        "A's experiment in B's list of experiments from followed territories",
    )
    assert b.remote_kind(experiment_uri) == "tc:Experiment", b.remote_kind(experiment_uri)
    # B's facilitator follows the page's "adopt" link of that experiment
    links = [unescape(h) for h in re.findall(r'href="(/experiments/adopt\?url=[^"]+)"', listing)]
    adopt_paths = [
        link
        for link in links
        if urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).get("url") == [experiment_uri]
    ]
    assert adopt_paths, f"no link to adopt {experiment_uri} on B: {links}"
    adopt_path = adopt_paths[0]
    location, _ = bea.submit(
        adopt_path,
        "/experiments/adopt",
        {
            "adaptations": "Un seul hameau, et le dimanche : le marché de Beta est le dimanche.",
            "starts_on": "2026-06-07",
            "ends_on": "2026-11-29",
        },
    )
    replica_id = created_id(location, "/experiments/")
    replica_uri = f"{b.base}/experiments/{replica_id}"
    replica_path = f"/experiments/{replica_id}"
    status, replica = b.json(replica_uri)
    assert status == 200 and replica["wasDerivedFrom"] == experiment_uri, replica
    assert replica["adaptations"].startswith("Un seul hameau"), replica
    for state in ("running", "evaluating"):
        bea.submit(replica_path, f"{replica_path}/state", {"to": state})
    bea.submit(
        replica_path,
        f"{replica_path}/evaluation",
        {
            "outcome": "partial",
            "recommendation": "adapt",
            "lessons": "Utile, mais le dimanche attire moins de monde.",
        },
    )

    def replication_on_a() -> str:
        page = camille.page(experiment_path)
        return plain(section(page, "replications", "history"))

    summary = wait(
        lambda: (text := replication_on_a()) and "1 partiel" in text and text,
        "B's replication and its partial outcome on A's experiment page",
    )
    assert "Répliquée dans 1 territoire · 1 partiel" in summary, summary
    assert "Saint-Beta" in summary, summary
    assert f'href="{replica_uri}"' in camille.page(experiment_path)
    status, collection = a.json(f"{experiment_path}/replications")
    assert status == 200 and collection["totalItems"] == 1, collection
    lap("replication on B, outcome on A")

    # -- 5. an offer from A, answered from B, closed ---------------------------------------
    location, _ = alex.submit(
        "/offers/new",
        "/offers",
        {
            "purpose": "offer",
            "kind": "lend",
            "title": "Prêt d'une remorque à vélo",
            "text": "Une remorque pour porter les courses du marché, à prêter le samedi.",
            "place": "Place de l'église",
            "territories": [b.territory],
        },
    )
    offer_id = created_id(location, "/offers/")
    offer_uri = f"{a.base}/offers/{offer_id}"
    offer_path = f"/offers/{offer_id}"
    offer_note = check_fields(peer_got("Create", offer_uri, "offer's Create")[0], "offer")
    assert offer_note["type"] == "Note" and offer_note["additionalType"] == "vf:Proposal"
    assert b.territory in offer_note["cc"], offer_note
    card = wait(
        lambda: (text := plain(bea.page("/offers"))) and "remorque à vélo" in text and text,
        "A's offer on B's offers page",
    )
    assert "publiée par Saint-Alpha" in card, card

    # B's territory answers it (a public reply, delivered to the offer's publisher)
    reply_id = b.cli("announce", "--in-reply-to", offer_uri, "Nous en aurions besoin dimanche !")
    assert reply_id.startswith(f"{b.base}/notes/"), reply_id
    replies = wait(
        lambda: (text := plain(alex.page(offer_path))) and "besoin dimanche" in text and text,
        "B's reply on A's offer page",
    )
    assert "Réponses (1) Saint-Beta" in replies, replies

    alex.submit(offer_path, f"{offer_path}/state", {}, where={"state": "closed"})
    wait(
        lambda: "remorque à vélo" not in bea.page("/offers"),
        "the closed offer gone from B's offers page",
    )
    assert peer_got("Delete", offer_uri, "offer's Delete"), context()
    status, tombstone = a.json(offer_uri)
    assert status == 410 and tombstone["type"] == "Tombstone", tombstone
    lap("offer, reply, close")

    # -- every object the peer got from A carries what Mastodon shows ----------------------
    shown = ("Page", "Question", "Article")
    objects = [
        entry
        for entry in peer.received(actor=a.territory)
        if entry["type"] in ("Create", "Update")
        and isinstance(entry["raw"].get("object"), dict)
        and (
            entry.get("object_type") in shown
            or entry["raw"]["object"].get("additionalType") == "vf:Proposal"
        )
    ]
    kinds = {(e["type"], e["raw"]["object"]["type"]) for e in objects}
    assert {("Create", "Page"), ("Create", "Question"), ("Create", "Article")} <= kinds, kinds
    assert ("Create", "Note") in kinds, kinds
    incomplete = [
        (e["type"], e["object_id"], missing_fields(e)) for e in objects if missing_fields(e)
    ]
    assert not incomplete, incomplete
    assert all(PUBLIC in e["raw"]["object"].get("to", []) for e in objects)

    total = sum(seconds for _, seconds in timings)
    print("story timings:", timings, f"total {total:.1f}s")
