"""The resident's main path in a real browser, on a real served node, through pages only.

The admin logs in with the one-time password printed by `maillage init`, chooses a new one,
creates a circle and an invitation; a resident joins from the invite link, submits a need
(first with an empty title: the field's error is announced next to it), supports it; the
admin takes the need to a circle, a proposal and an open decision; the resident votes and
changes their vote, while a logged-out visitor cannot vote. Every page visited is checked for
one h1, heading order and named controls; the need form is walked with the keyboard.
Screenshots of the main steps go to test-artifacts/resident-*.png.

The tests run in file order and share one node and one story: each step needs the previous.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.testrig.browser import screenshot
from tests.testrig.nodes import MaillageNode

expect: Any
try:  # Playwright is an optional test dependency: without it the `browser` fixture skips
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture reports it
    expect = None

TERRITORY = "Saint-Parcours"
ADMIN_PASSWORD = "Un-nouveau-mot-de-passe-2026"
RESIDENT = ("camille", "Camille Martin", "Camille-et-ses-10-caracteres")
CIRCLE = ("Cercle Mobilités", "mobilites")
NEED_TITLE = "Un abri vélo devant l'école"
PROPOSAL_TITLE = "Installer un abri vélo couvert devant l'école Jules-Ferry"
QUESTION = "Faut-il installer l'abri vélo devant l'école ?"
ID = r"[0-9a-z]{26}"
#: The node's clock: the territory.timezone `maillage init` writes by default.
TERRITORY_ZONE = ZoneInfo("Europe/Paris")


@dataclass
class Story:
    """What the steps hand to each other: the node, the people's pages and what they made."""

    node: MaillageNode
    browser: Any
    contexts: list[Any] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    admin: Any = None
    resident: Any = None
    invite: str = ""
    need: str = ""
    decision: str = ""

    def page(self) -> Any:
        """A page in a fresh browser context (its own cookies: another person), in French;
        every 5xx answer it receives is noted for the step to fail on."""
        context = self.browser.new_context(locale="fr-FR", viewport={"width": 1000, "height": 800})
        self.contexts.append(context)
        context.set_default_timeout(10_000)
        context.on(
            "response",
            lambda r: self.server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        return context.new_page()

    def url(self, path: str) -> str:
        return self.node.base + path

    def after(self, *steps: str) -> None:
        """Skip when an earlier step did not get this far (its own failure says why)."""
        if not all(getattr(self, step) for step in steps):
            pytest.skip(f"needs the earlier steps of this module (no {', '.join(steps)} yet)")


@pytest.fixture(scope="module")
def story(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    node = MaillageNode(tmp_path_factory.mktemp("resident"), TERRITORY)
    node.start()
    told = Story(node, browser)
    try:
        yield told
    finally:
        for context in told.contexts:
            context.close()
        node.stop()


@pytest.fixture(autouse=True)
def no_server_error(story: Story) -> Iterator[None]:
    """No page of a step may answer with a server error (5xx)."""
    story.server_errors.clear()
    yield
    assert not story.server_errors, f"server errors: {story.server_errors}"


# --- accessibility checks used on every page ---------------------------------------------

HEADINGS = """() => Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'))
  .filter(h => h.getClientRects().length > 0)
  .map(h => [Number(h.tagName[1]), h.textContent.trim()])"""


def check_page(page: Any) -> None:
    """Exactly one h1, first; no heading level skipped; every visible control in the main
    content has an accessible name (a label, a legend-free name, aria-label...)."""
    where = page.url
    headings: list[list[Any]] = page.evaluate(HEADINGS)
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1, f"{where}: {levels.count(1)} h1 in {headings}"
    assert levels[0] == 1, f"{where}: the first heading is not the h1: {headings}"
    for (before, _), (level, text) in pairwise(headings):
        assert level <= before + 1, f"{where}: h{before} then h{level} ({text!r}): {headings}"
    controls = page.locator(
        "main input:not([type=hidden]):visible, main select:visible,"
        " main textarea:visible, main button:visible"
    )
    for index in range(controls.count()):
        control = controls.nth(index)
        try:
            expect(control).to_have_accessible_name(re.compile(r"\S"), timeout=1_000)
        except AssertionError:
            html = control.evaluate("element => element.outerHTML")
            raise AssertionError(f"{where}: a control without accessible name: {html}") from None


def submit(page: Any, button: str) -> None:
    """Press a form's button by its accessible name and wait for the next page."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


# --- the steps ---------------------------------------------------------------------------


def test_admin_sets_password_creates_circle_and_invitation(story: Story) -> None:
    admin = story.page()
    admin.goto(story.url("/"))
    with admin.expect_navigation():
        admin.get_by_role("link", name="Se connecter").click()
    check_page(admin)
    admin.get_by_label("Identifiant").fill("admin")
    admin.get_by_label("Mot de passe").fill(story.node.one_time_password)
    submit(admin, "Se connecter")

    # the one-time password forces a new one before anything else
    expect(admin).to_have_url(story.url("/account/password"))
    check_page(admin)
    expect(admin.get_by_text("mot de passe à usage unique")).to_be_visible()
    admin.goto(story.url("/members"))
    expect(admin).to_have_url(story.url("/account/password"))
    admin.get_by_label("Mot de passe actuel").fill(story.node.one_time_password)
    admin.get_by_label("Nouveau mot de passe (10 caractères au moins)").fill(ADMIN_PASSWORD)
    admin.get_by_label("Nouveau mot de passe, à nouveau").fill(ADMIN_PASSWORD)
    submit(admin, "Enregistrer")
    expect(admin).to_have_url(story.url("/admin"))
    check_page(admin)

    # a circle, through the circles page
    admin.get_by_role("link", name="Cercles", exact=True).click()
    admin.get_by_role("link", name="Créer un cercle").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Créer un cercle")
    check_page(admin)
    admin.get_by_label("Nom du cercle").fill(CIRCLE[0])
    admin.get_by_label("Nom court").fill(CIRCLE[1])
    admin.get_by_label("Sorte de cercle").select_option(label="Cercle de travail")
    admin.get_by_label("Mandat").fill("Les déplacements à pied et à vélo dans le bourg.")
    submit(admin, "Créer le cercle")
    expect(admin).to_have_url(story.url(f"/circles/{CIRCLE[1]}"))
    expect(admin.get_by_role("heading", level=1)).to_have_text(CIRCLE[0])
    check_page(admin)

    # an invitation, through the members page; the link is read from the page
    admin.get_by_role("link", name="Membres", exact=True).click()
    expect(admin).to_have_url(story.url("/members"))
    check_page(admin)
    admin.get_by_label("Pour qui").fill("Camille, rue des Lilas")
    admin.get_by_label("Rôle donné par l'invitation").select_option("resident")
    submit(admin, "Créer un lien d'invitation (valable 14 jours)")
    link = admin.get_by_label("Lien pour Camille, rue des Lilas")
    expect(link).to_have_value(re.compile(re.escape(story.url("/join/")) + r"\S+"))
    expect(admin.get_by_role("heading", name="Lien d'invitation")).to_be_visible()
    check_page(admin)
    screenshot(admin, "resident-01-invite-fr")
    story.invite = link.input_value()
    story.admin = admin


def test_resident_joins_from_the_invite_link(story: Story) -> None:
    story.after("invite")
    resident = story.page()
    resident.goto(story.invite)
    expect(resident.get_by_role("heading", level=1)).to_have_text(
        f"Rejoindre le territoire {TERRITORY}"
    )
    check_page(resident)
    username, name, password = RESIDENT
    resident.get_by_label("Nom d'utilisateur").fill(username)
    resident.get_by_label("Nom affiché").fill(name)
    resident.get_by_label("Mot de passe (10 caractères au moins)").fill(password)
    resident.get_by_label("Mot de passe, à nouveau").fill(password)
    screenshot(resident, "resident-02-join-fr")
    submit(resident, "Créer mon compte")

    expect(resident).to_have_url(story.url("/account/profile?done=joined"))
    expect(resident.get_by_role("heading", level=1)).to_have_text("Mon profil")
    expect(resident.get_by_role("status")).to_have_text("C'est fait.")
    expect(resident.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(resident.get_by_label("Nom affiché")).to_have_value(name)
    check_page(resident)
    story.resident = resident

    # the link served once: another visitor gets a clear page, not a form
    other = story.page()
    response = other.goto(story.invite)
    assert response is not None and response.status == 410
    expect(other.get_by_role("heading", level=1)).to_have_text("Lien inutilisable")
    other.context.close()
    story.contexts.remove(other.context)


def test_need_form_is_labelled_and_keyboard_usable(story: Story) -> None:
    story.after("resident")
    page = story.resident
    page.get_by_role("link", name="Besoins", exact=True).click()
    page.get_by_role("link", name="Exprimer un besoin").click()
    expect(page).to_have_url(story.url("/needs/new"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Exprimer un besoin")
    check_page(page)
    for label in ("Titre", "Description du besoin", "Thème", "Lieu (facultatif)"):
        expect(page.get_by_label(label, exact=True)).to_be_editable()

    page.keyboard.press("Tab")  # first stop: the skip link
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    for _ in range(40):  # then through the header and the sections, to the form
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "title":
            break
    else:
        raise AssertionError("the need's title field cannot be reached with Tab")
    order = ["title"]
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert order == ["title", "text", "theme", "place", "Publier le besoin"]


def test_resident_submits_a_need_and_sees_the_field_error(story: Story) -> None:
    story.after("resident")
    page = story.resident
    page.goto(story.url("/needs/new"))
    page.get_by_label("Description du besoin").fill(
        "Les enfants viennent à vélo mais n'ont nulle part où les garer à l'abri."
    )
    page.get_by_label("Thème").select_option(label="Mobilités")
    page.get_by_label("Lieu (facultatif)").fill("École Jules-Ferry")
    page.get_by_label("Lieu (facultatif)").press("Tab")  # to the button, by keyboard
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # the form again, the reason next to the title field, announced, and the rest kept
    title = page.get_by_label("Titre", exact=True)
    error = page.locator("#title-error")
    expect(error).to_have_text("Ce champ est obligatoire.")
    expect(error).to_have_attribute("role", "alert")
    expect(page.locator("label[for=title] + #title-error + input#title")).to_have_count(1)
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description("Ce champ est obligatoire.")
    expect(page.get_by_label("Description du besoin")).to_have_value(
        re.compile("nulle part où les garer")
    )
    expect(page.get_by_label("Thème")).to_have_value("mobility")
    expect(page.get_by_label("Lieu (facultatif)")).to_have_value("École Jules-Ferry")
    check_page(page)
    screenshot(page, "resident-03-need-form-error-fr")

    title.fill(NEED_TITLE)
    with page.expect_navigation():
        title.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(story.url("/needs/")) + ID + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(NEED_TITLE)
    expect(page.get_by_text("École Jules-Ferry")).to_be_visible()
    check_page(page)
    story.need = page.url


def test_resident_supports_the_need_once(story: Story) -> None:
    story.after("need")
    page = story.resident
    stale = page.context.new_page()  # the same page, opened before supporting
    stale.goto(story.need)
    page.goto(story.need)
    supports = page.locator("section[aria-labelledby=supports]")
    expect(supports).to_contain_text("0 soutien(s)")
    submit(page, "Soutenir ce besoin")
    expect(supports).to_contain_text("1 soutien(s)")
    expect(supports).to_contain_text("Vous soutenez ce besoin.")
    expect(page.get_by_role("button", name="Soutenir ce besoin")).to_have_count(0)
    expect(page.get_by_role("button", name="Retirer mon soutien")).to_be_visible()
    check_page(page)
    screenshot(page, "resident-04-need-supported-fr")

    # a second support (from the page still showing the button) is refused, politely
    with stale.expect_response(lambda r: r.url.endswith("/support")) as answer:
        stale.get_by_role("button", name="Soutenir ce besoin").click()
    assert answer.value.status == 400
    expect(stale.get_by_role("alert")).to_have_text(
        "Vous soutenez déjà ce besoin : un seul soutien par personne."
    )
    expect(stale.locator("section[aria-labelledby=supports]")).to_contain_text("1 soutien(s)")
    check_page(stale)
    stale.close()


def test_facilitator_takes_the_need_to_a_decision(story: Story) -> None:
    story.after("admin", "need")
    admin = story.admin
    admin.goto(story.need)
    check_page(admin)
    admin.get_by_label("Cercle", exact=True).select_option(label=CIRCLE[0])
    submit(admin, "Confier")
    expect(admin.get_by_role("link", name=CIRCLE[0])).to_be_visible()

    # a proposal drafted from the need, from the proposals page
    admin.get_by_role("link", name="Propositions", exact=True).click()
    admin.get_by_role("link", name="Rédiger une proposition").click()
    expect(admin).to_have_url(story.url("/proposals/new"))
    check_page(admin)
    admin.get_by_label("Cercle", exact=True).select_option(label=CIRCLE[0])
    admin.get_by_label(NEED_TITLE).check()
    admin.get_by_label("Titre", exact=True).fill(PROPOSAL_TITLE)
    admin.get_by_label("Résumé (facultatif)").fill("Un abri de dix places, couvert.")
    admin.get_by_label("Texte de la proposition").fill(
        "Le cercle propose un abri couvert de dix places sur le parvis de l'école."
    )
    admin.get_by_label("Thème").select_option(label="Mobilités")
    submit(admin, "Enregistrer le brouillon")
    expect(admin).to_have_url(re.compile(re.escape(story.url("/proposals/")) + ID + "$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text(PROPOSAL_TITLE)
    check_page(admin)

    # into deliberation, then a decision opened now and closing in an hour
    admin.get_by_label("Nouvel état").select_option(label="en délibération")
    admin.get_by_label("Motif (facultatif)").fill("Prêt pour la décision.")
    submit(admin, "Changer l'état")
    expect(admin.locator("dl.facts")).to_contain_text("en délibération")
    admin.get_by_role("link", name="Ouvrir une décision sur cette proposition").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Ouvrir une décision")
    check_page(admin)
    expect(admin.get_by_label("Proposition en délibération")).to_have_value(re.compile(ID))
    admin.get_by_label("Question posée").fill(QUESTION)
    admin.get_by_label("Vote à la majorité").check()
    closing = datetime.now(TERRITORY_ZONE) + timedelta(hours=1)
    admin.get_by_label("Clôture").fill(closing.strftime("%Y-%m-%dT%H:%M"))
    admin.get_by_label("Quorum").fill("10")
    submit(admin, "Ouvrir la décision")
    expect(admin).to_have_url(re.compile(re.escape(story.url("/decisions/")) + ID + "$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(admin.locator(".kicker")).to_contain_text("Ouverte")
    check_page(admin)
    story.decision = admin.url


def test_resident_votes_and_changes_their_vote(story: Story) -> None:
    story.after("resident", "decision")
    page = story.resident
    page.goto(story.url("/decisions"))
    check_page(page)
    page.get_by_role("link", name=QUESTION).click()
    expect(page).to_have_url(story.decision)
    check_page(page)
    vote = page.locator("section[aria-labelledby=vote]")
    page.get_by_label("Pour", exact=True).check()
    submit(page, "Voter")
    expect(page.get_by_role("status")).to_have_text(
        "Votre vote est enregistré. Vous pouvez le changer jusqu'à la clôture."
    )
    expect(vote).to_contain_text("Vous avez répondu : Pour.")
    expect(page.get_by_label("Pour", exact=True)).to_be_checked()
    expect(page.locator("dl.facts")).to_contain_text("1 votant·e(s) sur 2 habitant·es")

    page.get_by_label("Contre", exact=True).check()
    submit(page, "Changer mon vote")
    expect(vote).to_contain_text("Vous avez répondu : Contre.")
    expect(page.get_by_label("Contre", exact=True)).to_be_checked()
    expect(page.locator("dl.facts")).to_contain_text("1 votant·e(s) sur 2 habitant·es")
    check_page(page)
    screenshot(page, "resident-05-decision-voted-fr")

    # the same page in English, through the language switch
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("heading", name="Your vote")).to_be_visible()
    expect(page.locator("section[aria-labelledby=vote]")).to_contain_text("You answered: Against")
    expect(page.get_by_role("button", name="Change my vote")).to_be_visible()
    check_page(page)
    screenshot(page, "resident-06-decision-voted-en")
    with page.expect_navigation():
        page.get_by_role("link", name="Français").click()


def test_a_logged_out_visitor_cannot_vote(story: Story) -> None:
    story.after("decision")
    page = story.page()
    page.goto(story.decision)
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(page.locator("form[action$='/vote']")).to_have_count(0)
    expect(page.get_by_role("radio")).to_have_count(0)
    expect(page.get_by_role("link", name="Se connecter pour voter")).to_be_visible()
    check_page(page)

    # a forged vote (with the visitor's own anti-forgery token) is refused too
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf")
    answer = page.request.post(
        story.decision + "/vote", form={"csrf": token, "choice": "for", "comment": ""}
    )
    assert answer.status == 403
    assert "Seul·es les habitant·es connecté·es peuvent voter" in answer.text()
    page.reload()
    expect(page.locator("dl.facts")).to_contain_text("1 votant·e(s) sur 2 habitant·es")
