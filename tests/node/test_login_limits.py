"""Login throttling, through the real pages and the real OAuth endpoint on a real database:
failures slow a login name down, then lock it and the address; people are told when to
retry; the counters survive a restart and are shared by processes on one PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import select, update

from instance_config import InstanceConfig
from node.services.limits.logins import LoginLimiter, LoginThrottled
from node.services.limits.refusals import RefusalLog
from node.storage.base import utcnow
from node.storage.engine import make_engine, make_sessionmaker
from node.storage.migrate import upgrade_database
from node.storage.models import AccessLink, LoginThrottle
from node.web.app import create_app
from node.web.keys import config_key, runtime_key, sessions_key
from tests.conftest import config_for, initialise
from tests.node.test_client_api_wire import register
from tests.testrig.people import HTML, HTTP_NODE, add_account, as_person, csrf_of, submit


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def make_node(aiohttp_client: Any, config: InstanceConfig) -> tuple[TestClient, Clock]:
    await initialise(config)
    node = await aiohttp_client(create_app(config, workers=False))
    clock = Clock()
    node.app[runtime_key].login_limits.clock = clock
    return node, clock


@pytest.fixture
async def node(aiohttp_client: Any, make_config: Any) -> tuple[TestClient, Clock]:
    return await make_node(aiohttp_client, make_config(node=HTTP_NODE))


async def login(client: TestClient, username: str, password: str, **headers: str) -> Any:
    page = await (await client.get("/login", headers=HTML)).text()
    return await client.post(
        "/login",
        data={"csrf": csrf_of(page), "username": username, "password": password},
        headers={**HTML, **headers},
        allow_redirects=False,
    )


async def test_fifty_wrong_logins_lock_the_account_and_the_address_until_the_lock_ends(
    node: tuple[TestClient, Clock], aiohttp_client: Any
) -> None:
    client, clock = node
    password = await add_account(client, "camille")
    await add_account(client, "remi")
    statuses = [(await login(client, "Camille", "wrong password")).status for _ in range(50)]
    # five plain refusals, then "wait", then locked: never a 500, never let through
    assert statuses[:5] == [400] * 5 and set(statuses[5:]) == {429}

    locked = await login(client, "camille", password)
    assert locked.status == 429
    retry_after = int(locked.headers["Retry-After"])
    assert 14 * 60 < retry_after <= 15 * 60
    page = html.unescape(await locked.text())
    assert "connexion bloquée jusqu'à" in page and "(dans 15 min)" in page
    assert 'name="password"' in page, "the form still shows"
    # the address is locked too: another resident, from the same address
    assert (await login(client, "remi", "remi-password-1")).status == 429
    # and the account from another browser, in English
    other = await aiohttp_client(client.server)
    english = await login(other, "camille", password, **{"Accept-Language": "en"})
    assert english.status == 429 and "logins are blocked until" in await english.text()

    # the counters live in the database: a restarted node still refuses
    restarted = await aiohttp_client(create_app(client.app[config_key], workers=False))
    assert (await login(restarted, "camille", password)).status == 429

    clock.advance(minutes=15, seconds=1)
    assert (await login(client, "camille", password)).status == 302
    assert (await login(client, "remi", "remi-password-1")).status == 302
    async with client.app[sessions_key]() as session:
        left = {(row.scope, row.key) for row in await session.scalars(select(LoginThrottle))}
    assert ("account", "camille") not in left, "a successful login clears the account"
    refusals = {
        (total.kind, total.key) for total in await client.app[runtime_key].refusals.recent()
    }
    assert {("login_account", "camille"), ("login_address", "127.0.0.1")} <= refusals


async def test_failures_slow_down_first_and_a_success_clears_them(
    node: tuple[TestClient, Clock],
) -> None:
    client, clock = node
    password = await add_account(client, "camille")
    for _ in range(5):
        assert (await login(client, "camille", "nope")).status == 400
    # a wait of 2 s after five failures; this refused attempt counts: 4 s
    slowed = await login(client, "camille", password)
    assert slowed.status == 429 and slowed.headers["Retry-After"] == "4"
    assert "attendez 4 secondes avant de réessayer" in html.unescape(await slowed.text())
    clock.advance(seconds=3)
    assert (await login(client, "camille", password)).headers["Retry-After"] == "8"
    clock.advance(seconds=8)
    assert (await login(client, "camille", password)).status == 302
    assert (await login(client, "camille", "nope")).status == 400, "the count starts again"


async def test_an_unknown_login_costs_one_password_hash_and_gets_the_same_answer(
    node: tuple[TestClient, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = node
    await add_account(client, "camille")
    verified: list[str] = []
    real_verify = PasswordHasher.verify  # argon2-cffi's, not ours

    def counting_verify(self: PasswordHasher, hash: str, password: str) -> bool:
        verified.append(password)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    known = await login(client, "camille", "wrong for camille")
    unknown = await login(client, "personne", "wrong for nobody")
    assert verified == ["wrong for camille", "wrong for nobody"]
    assert known.status == unknown.status == 400

    def reason(page: str) -> str:
        return re.findall(r'role="alert">([^<]+)<', page)[0]

    assert reason(await known.text()) == reason(await unknown.text())


async def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    aiohttp_client: Any, make_config: Any
) -> None:
    limits = {"login_lock_address_after": 3, "trusted_proxies": ["127.0.0.1"]}
    client, _ = await make_node(aiohttp_client, make_config(node=HTTP_NODE, limits=limits))
    await add_account(client, "camille")
    for name in ("a", "b", "c"):
        answer = await login(client, name, "x", **{"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
        assert answer.status == 400
    blocked = await login(
        client, "camille", "camille-password-1", **{"X-Forwarded-For": "203.0.113.7"}
    )
    assert blocked.status == 429
    # another client behind the same proxy is not blocked; a forged first hop changes nothing
    forwarded = {"X-Forwarded-For": "203.0.113.7, 203.0.113.8"}
    assert (await login(client, "camille", "camille-password-1", **forwarded)).status == 302


async def test_without_a_trusted_proxy_forwarded_headers_are_ignored(
    aiohttp_client: Any, make_config: Any
) -> None:
    limits = {"login_lock_address_after": 3}
    client, _ = await make_node(aiohttp_client, make_config(node=HTTP_NODE, limits=limits))
    await add_account(client, "camille")
    for number in range(3):
        spoofed = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert (await login(client, f"x{number}", "x", **spoofed)).status == 400
    assert (await login(client, "camille", "camille-password-1")).status == 429


async def test_the_oauth_password_grant_goes_through_the_same_limits(
    node: tuple[TestClient, Clock],
) -> None:
    client, clock = node
    password = await add_account(client, "camille")
    app = await register(client)

    async def grant(secret: str) -> Any:
        return await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": "camille",
                "password": secret,
            },
        )

    for _ in range(5):
        assert (await grant("wrong")).status == 400
    throttled = await grant(password)
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "4"
    assert "try again in 4 seconds" in (await throttled.json())["error"]
    # the page login shares the counter
    assert (await login(client, "camille", password)).status == 429
    clock.advance(seconds=30)
    assert (await grant(password)).status == 200


async def test_the_account_deletion_password_goes_through_the_login_limits(
    node: tuple[TestClient, Clock],
) -> None:
    client, _ = node
    await as_person(client, "camille")
    statuses = []
    for _ in range(6):
        answer = await submit(client, "/account/delete", "/account/delete", password="guess")
        statuses.append(answer.status)
    assert statuses == [400] * 5 + [429]
    assert "Retry-After" in answer.headers
    assert "attendez" in await answer.text()


async def test_the_password_change_goes_through_the_login_limits(
    node: tuple[TestClient, Clock],
) -> None:
    client, _ = node
    await as_person(client, "dominique")
    statuses = []
    for _ in range(6):
        answer = await submit(
            client,
            "/account/password",
            "/account/password",
            current="guess",
            new="un-nouveau-mot-2",
            repeat="un-nouveau-mot-2",
        )
        statuses.append(answer.status)
    assert statuses == [400] * 5 + [429]
    assert "Retry-After" in answer.headers and "attendez" in await answer.text()


async def test_counters_are_shared_by_processes_on_one_database(
    database_url: str, tmp_path: Any
) -> None:
    """Two limiters on two engines (as two processes) count the same failures."""
    config = config_for(tmp_path, limits={"login_lock_account_after": 6})
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        await upgrade_database(engines[0])
        limiters = [
            LoginLimiter(make_sessionmaker(engine), config, RefusalLog(make_sessionmaker(engine)))
            for engine in engines
        ]
        for number in range(6):
            await limiters[number % 2].failed("Camille", f"192.0.2.{number}")
        for limiter in limiters:
            with pytest.raises(LoginThrottled) as refused:
                await limiter.check("camille", "192.0.2.99")
            assert refused.value.retry_after > 14 * 60
        later = utcnow() + timedelta(hours=1)
        limiters[0].clock = lambda: later
        assert await limiters[0].prune() == 8  # the account and 7 addresses: all over
    finally:
        for engine in engines:
            await engine.dispose()


async def test_reset_links_are_single_use_and_expire(
    node: tuple[TestClient, Clock], aiohttp_client: Any
) -> None:
    client, _ = node
    await as_person(client, "camille", "admin")
    await add_account(client, "remi")

    async def reset_link() -> str:
        issued = await submit(client, "/members", "/members/reset", username="remi")
        return str(
            re.findall(r'value="http://saint-x\.example(/reset/[^"]+)"', await issued.text())[0]
        )

    fields = {"password": "un nouveau mot de passe", "repeat": "un nouveau mot de passe"}
    path = await reset_link()
    owner = await aiohttp_client(client.server)
    assert (await submit(owner, path, path, **fields)).status == 302
    used = await submit(await aiohttp_client(client.server), "/login", path, **fields)
    assert used.status == 410 and "déjà servi" in html.unescape(await used.text())

    path = await reset_link()
    async with client.app[sessions_key].begin() as session:
        await session.execute(
            update(AccessLink)
            .where(AccessLink.used_at.is_(None))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    late = await aiohttp_client(client.server)
    expired = await late.get(path, headers=HTML)
    assert expired.status == 410 and "expiré" in html.unescape(await expired.text())
    assert (await submit(late, "/login", path, **fields)).status == 410
