"""The wire details Mastodon clients depend on, on a real node in-process: request bodies in
every form, Rails arrays and booleans, CORS, trailing slashes, Mastodon's error shape,
scopes, app tokens, hashed tokens, rate limits, and the resident's page of authorised apps."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from node.services.accounts.deletion import delete_account
from node.services.moderation.actions import suspend_resident
from node.services.moderation.domain_blocks import block_request, save_block
from node.storage.actors import get_account_by_username
from node.storage.models import Account, OAuthApp, OAuthToken, RemoteActor
from node.web.client_api.rate_limits import REQUESTS_PER_WINDOW
from node.web.keys import runtime_key, sessions_key
from tests.testrig.people import HTML, add_account, csrf_of, log_in

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def register(client: TestClient, scopes: str = "read write follow") -> dict[str, Any]:
    response = await client.post(
        "/api/v1/apps", json={"client_name": "Essai", "redirect_uris": OOB, "scopes": scopes}
    )
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def user_token(
    client: TestClient, username: str = "camille", scope: str = "read write follow"
) -> str:
    password = await add_account(client, username)
    app = await register(client)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": password,
            "scope": scope,
        },
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_apps_register_from_json_form_and_multipart_bodies(web_node: TestClient) -> None:
    as_json = await register(web_node)
    assert as_json["client_secret_expires_at"] == 0 and as_json["redirect_uris"] == [OOB]
    form = await web_node.post(
        "/api/v1/apps",
        data={"client_name": "Formulaire", "redirect_uris": OOB, "scopes": "read", "extra": "x"},
    )
    assert form.status == 200 and (await form.json())["scopes"] == ["read"]
    multipart = FormData()
    multipart.add_field("client_name", "Multipart")
    multipart.add_field("redirect_uris", "com.tapbots.Ivory.10217:/request_token")
    multipart.add_field("scopes", "read+write")
    answer = await web_node.post("/api/v1/apps", data=multipart)
    assert answer.status == 200
    assert (await answer.json())["redirect_uris"] == ["com.tapbots.Ivory.10217:/request_token"]
    listed = await web_node.post(
        "/api/v1/apps",
        json={"client_name": "Liste", "redirect_uris": [OOB, "https://a.example/cb"]},
    )
    assert (await listed.json())["redirect_uris"] == [OOB, "https://a.example/cb"]


async def test_hostile_registrations_are_refused_with_mastodons_error_shape(
    web_node: TestClient,
) -> None:
    for uri in ("javascript:alert(1)", "data:text/html,x", "https://a.example/#frag"):
        answer = await web_node.post(
            "/api/v1/apps", json={"client_name": "X", "redirect_uris": uri}
        )
        assert answer.status == 422 and "error" in await answer.json(), uri
    unknown = await web_node.post(
        "/api/v1/apps", json={"client_name": "X", "redirect_uris": OOB, "scopes": "read admin:all"}
    )
    assert unknown.status == 400 and (await unknown.json())["error"]


async def test_cors_preflight_and_trailing_slashes(web_node: TestClient) -> None:
    preflight = await web_node.options(
        "/api/v1/timelines/public",
        headers={"Origin": "https://elk.zone", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    for path in ("/api/v1/instance", "/api/v1/instance/", "/api/v2/instance/"):
        answer = await web_node.get(path)
        assert answer.status == 200, path
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert (await answer.json())["version"].startswith("4.3.0 (compatible; Maillage")


async def test_errors_are_mastodons_shape(web_node: TestClient) -> None:
    unauthenticated = await web_node.get("/api/v1/accounts/verify_credentials")
    assert unauthenticated.status == 401 and (await unauthenticated.json())["error"]
    wrong = await web_node.get("/api/v1/timelines/home", headers=bearer("not-a-token"))
    assert wrong.status == 401
    missing = await web_node.get("/api/v1/statuses/12345")
    assert missing.status == 404 and (await missing.json()) == {"error": "Record not found"}
    nowhere = await web_node.get("/api/v1/no/such/endpoint")
    assert nowhere.status == 404 and "error" in await nowhere.json()


async def test_scopes_are_enforced_and_app_tokens_speak_for_no_one(web_node: TestClient) -> None:
    reader = await user_token(web_node, "lecteur", scope="read")
    refused = await web_node.post("/api/v1/statuses", json={"status": "x"}, headers=bearer(reader))
    assert refused.status == 403
    app = await register(web_node)
    answer = await web_node.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read",
        },
    )
    app_token = (await answer.json())["access_token"]
    assert (
        await web_node.get("/api/v1/apps/verify_credentials", headers=bearer(app_token))
    ).status == 200
    me = await web_node.get("/api/v1/accounts/verify_credentials", headers=bearer(app_token))
    assert me.status == 422
    bad_secret = await web_node.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": "x",
        },
    )
    assert bad_secret.status == 401 and (await bad_secret.json())["error"] == "invalid_client"


async def test_tokens_are_stored_only_as_hashes(web_node: TestClient) -> None:
    token = await user_token(web_node)
    async with web_node.app[sessions_key]() as session:
        stored = [row.token_hash for row in await session.scalars(select(OAuthToken))]
        secrets = [row.client_secret_hash for row in await session.scalars(select(OAuthApp))]
    assert stored and token not in stored and all(len(h) == 64 for h in stored + secrets)


async def test_rails_arrays_booleans_and_posting_rules(web_node: TestClient) -> None:
    token = await user_token(web_node)
    me = await (
        await web_node.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    ).json()
    relations = await web_node.get(
        f"/api/v1/accounts/relationships?id[]={me['id']}&id[]=unknown", headers=bearer(token)
    )
    assert [r["id"] for r in await relations.json()] == [me["id"]]
    posted = await web_node.post(
        "/api/v1/statuses",
        data={"status": "<script>alert(1)</script> Bonjour", "sensitive": "0", "unknown": "x"},
        headers=bearer(token),
    )
    assert posted.status == 200, await posted.text()
    status = await posted.json()
    assert "<script" not in status["content"] and "Bonjour" in status["content"]
    for refused in (
        {"status": "x", "visibility": "direct"},
        {"status": "x" * 5001},
        {"status": " "},
    ):
        answer = await web_node.post("/api/v1/statuses", json=refused, headers=bearer(token))
        assert answer.status == 422, refused
    local = await web_node.get("/api/v1/timelines/public?local=1&limit=2")
    assert [s["id"] for s in await local.json()] == [status["id"]]
    assert "Link" in local.headers and 'rel="next"' in local.headers["Link"]
    bad_flag = await web_node.get("/api/v1/timelines/public?local=peut-etre")
    assert bad_flag.status == 422
    gone = await web_node.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(token))
    assert gone.status == 200
    assert (await web_node.get(f"/api/v1/statuses/{status['id']}")).status == 404


async def test_rate_limit_per_address_with_mastodons_headers(web_node: TestClient) -> None:
    first = await web_node.get("/api/v1/custom_emojis")
    assert first.headers["X-RateLimit-Limit"] == str(REQUESTS_PER_WINDOW)
    assert first.headers["X-RateLimit-Remaining"] == str(REQUESTS_PER_WINDOW - 1)
    for _ in range(REQUESTS_PER_WINDOW - 1):
        assert (await web_node.get("/api/v1/custom_emojis")).status == 200
    limited = await web_node.get("/api/v1/custom_emojis")
    assert limited.status == 429 and (await limited.json())["error"]
    assert (
        limited.headers["X-RateLimit-Remaining"] == "0" and int(limited.headers["Retry-After"]) > 0
    )
    # guessing tokens counts against the same address
    assert (await web_node.get("/api/v1/timelines/home", headers=bearer("guess"))).status == 429


async def test_a_resident_sees_and_revokes_authorised_apps(web_node: TestClient) -> None:
    token = await user_token(web_node)
    await log_in(web_node, "camille", "camille-password-1")
    page = await (await web_node.get("/account/apps", headers=HTML)).text()
    assert "Essai" in page
    app_id = page.split('name="app" value="')[1].split('"')[0]
    answer = await web_node.post(
        "/account/apps/revoke", data={"csrf": csrf_of(page), "app": app_id}, allow_redirects=False
    )
    assert answer.status == 302
    assert (await web_node.get("/api/v1/timelines/home", headers=bearer(token))).status == 401
    after = await (await web_node.get("/account/apps", headers=HTML)).text()
    assert "Aucune application" in after


async def test_suspended_and_deleted_residents_apps_are_logged_out(web_node: TestClient) -> None:
    suspended, gone = await user_token(web_node, "suspendu"), await user_token(web_node, "parti")
    runtime = web_node.app[runtime_key]
    async with web_node.app[sessions_key]() as session:
        moderator = Account(username="moderatrice", password_hash="x", role="admin")
        session.add(moderator)
        await session.commit()
    await suspend_resident(runtime, "suspendu", "Messages injurieux répétés.", moderator)
    assert (await web_node.get("/api/v1/timelines/home", headers=bearer(suspended))).status == 401
    app = await register(web_node)
    again = await web_node.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "suspendu",
            "password": "suspendu-password-1",
        },
    )
    assert again.status == 400 and "suspended" in (await again.json())["error_description"]
    async with web_node.app[sessions_key]() as session:
        account = await get_account_by_username(session, "parti")
    assert account is not None
    await delete_account(runtime, account.id, "parti-password-1")
    assert (await web_node.get("/api/v1/timelines/home", headers=bearer(gone))).status == 401


async def test_a_domain_whose_media_is_rejected_shows_the_default_avatar(
    web_node: TestClient,
) -> None:
    token = await user_token(web_node, "lisette")
    runtime = web_node.app[runtime_key]
    async with web_node.app[sessions_key].begin() as session:
        actor = RemoteActor(
            uri="https://images.example/users/ana",
            domain="images.example",
            type="Person",
            username="ana",
            inbox="https://images.example/users/ana/inbox",
            raw="{}",
            icon_url="https://images.example/ana.png",
        )
        session.add(actor)
    path = f"/api/v1/accounts/{actor.id}"
    shown = await (await web_node.get(path, headers=bearer(token))).json()
    assert shown["avatar"] == "https://images.example/ana.png"
    await save_block(runtime, block_request("images.example", "noop", reject_media=True))
    shown = await (await web_node.get(path, headers=bearer(token))).json()
    assert shown["avatar"].endswith("/static/person.png")
