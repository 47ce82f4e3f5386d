"""Configuration: TOML plus environment, validated, every problem named with its key."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from instance_config import (
    ConfigError,
    Role,
    TerritoryLevel,
    load_config,
    parse_config,
    render_config_toml,
)

MINIMAL = {"node": {"base_url": "https://saint-x.example/"}, "territory": {"name": "Saint-X"}}


def problems_of(raw: dict, tmp_path: Path, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, tmp_path, environ or {})
    return caught.value.problems


def test_minimal_configuration_gets_safe_defaults(tmp_path: Path) -> None:
    config = parse_config(MINIMAL, tmp_path, {})
    assert config.node.base_url == "https://saint-x.example"
    assert config.node.domain == "saint-x.example"
    assert config.node.role is Role.TERRITORY
    assert config.territory.handle == "territoire"
    assert config.territory.languages == ("fr", "en")
    assert config.territory.level is TerritoryLevel.COMMUNE
    assert config.territory.timezone == "Europe/Paris"
    assert config.territory.zone == ZoneInfo("Europe/Paris")
    assert config.federation.allow_private_addresses is False
    assert config.database.url == f"sqlite+aiosqlite:///{tmp_path}/maillage.sqlite3"
    assert config.http.port == 8080
    with pytest.raises(AttributeError):
        config.node.base_url = "https://other.example"  # type: ignore[misc]


def test_domain_keeps_the_port_and_listening_port_follows_it(tmp_path: Path) -> None:
    config = parse_config({**MINIMAL, "node": {"base_url": "http://127.0.0.1:8081"}}, tmp_path, {})
    assert config.node.domain == "127.0.0.1:8081"
    assert config.node.host == "127.0.0.1"
    assert config.http.port == 8081


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"node": {"base_url": "ftp://x.example"}}, "node.base_url: expected http:// or https://"),
        ({"node": {"base_url": "https://x.example/sub"}}, "node.base_url: expected only scheme"),
        ({"node": {"base_url": "https://x.example:99999"}}, "node.base_url: the port"),
        ({"node": {"role": "emperor"}}, "node.role: expected one of territory, coordinator"),
        (
            {"territory": {"level": "city"}},
            "territory.level: expected one of commune, intercommunal",
        ),
        ({"territory": {"handle": "Städt"}}, "territory.handle: expected lower-case letters"),
        ({"territory": {"handle": "-edge"}}, "territory.handle"),
        ({"territory": {"name": "  "}}, "territory.name: expected a non-empty text"),
        ({"territory": {"languages": []}}, "territory.languages: expected at least one"),
        ({"territory": {"languages": ["french"]}}, "territory.languages: expected language codes"),
        (
            {"territory": {"timezone": "Mars/Olympus"}},
            "territory.timezone: expected an IANA time zone name such as Europe/Paris",
        ),
        ({"territory": {"timezone": "localtime"}}, "territory.timezone: expected an IANA"),
        ({"territory": {"timezone": "../etc/passwd"}}, "territory.timezone: expected an IANA"),
        ({"territory": {"timezone": 2}}, "territory.timezone: expected an IANA"),
        (
            {"federation": {"manual_approval": "perhaps"}},
            "federation.manual_approval: expected true or false",
        ),
        (
            {"federation": {"blocked_domains": ["bad domain"]}},
            "federation.blocked_domains: expected domain",
        ),
        ({"database": {"url": "mysql://x"}}, "database.url: expected a sqlite:// or postgresql://"),
        ({"http": {"port": 0}}, "http.port: expected a port number"),
        ({"territory": {"colour": "green"}}, "territory.colour: unknown key; expected one of name"),
        ({"extras": {"a": 1}}, "[extras]: unknown section"),
    ],
)
def test_bad_values_are_refused_naming_key_and_expectation(
    raw: dict, expected: str, tmp_path: Path
) -> None:
    merged = {section: dict(keys) for section, keys in MINIMAL.items()}
    for section, keys in raw.items():
        merged.setdefault(section, {}).update(keys)
    problems = problems_of(merged, tmp_path)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_missing_required_keys_are_all_reported_together(tmp_path: Path) -> None:
    problems = problems_of({}, tmp_path)
    assert "node.base_url: required, but not set" in problems
    assert "territory.name: required, but not set" in problems


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    environ = {
        "MAILLAGE_DATABASE_URL": "postgresql://maillage:secret@db/maillage",
        "MAILLAGE_FEDERATION_MANUAL_APPROVAL": "true",
        "MAILLAGE_FEDERATION_BLOCKED_DOMAINS": "spam.example, bad.example",
        "MAILLAGE_TERRITORY_LANGUAGES": "en,fr",
        "MAILLAGE_NODE_ROLE": "coordinator",
        "MAILLAGE_DATA": "/ignored/by/the/config",
    }
    config = parse_config(MINIMAL, tmp_path, environ)
    assert config.database.url == "postgresql+asyncpg://maillage:secret@db/maillage"
    assert config.federation.manual_approval is True
    assert config.federation.blocked_domains == ("spam.example", "bad.example")
    assert config.territory.default_language == "en"
    assert config.node.role is Role.COORDINATOR


def test_time_zone_is_checked_against_the_zone_database(tmp_path: Path) -> None:
    raw = {**MINIMAL, "territory": {"name": "X", "timezone": "europe/paris"}}
    [problem] = problems_of(raw, tmp_path)
    assert problem == (
        "territory.timezone: expected an IANA time zone name such as Europe/Paris or "
        "America/Martinique; got 'europe/paris' (did you mean Europe/Paris?)"
    )
    environ = {"MAILLAGE_TERRITORY_TIMEZONE": "America/Martinique"}
    config = parse_config(MINIMAL, tmp_path, environ)
    assert config.territory.timezone == "America/Martinique"


def test_misspelt_environment_override_is_refused(tmp_path: Path) -> None:
    problems = problems_of(MINIMAL, tmp_path, {"MAILLAGE_TERRITORY_NAMME": "x"})
    assert problems[0].startswith("MAILLAGE_TERRITORY_NAMME: unknown setting")


def test_domain_policy_blocks_subdomains_and_honours_allow_lists(tmp_path: Path) -> None:
    config = parse_config(
        {**MINIMAL, "federation": {"blocked_domains": ["spam.example"]}}, tmp_path, {}
    )
    policy = config.federation
    assert not policy.is_domain_allowed("spam.example")
    assert not policy.is_domain_allowed("a.spam.example:8443")
    assert policy.is_domain_allowed("notspam.example")
    allow = parse_config(
        {**MINIMAL, "federation": {"allowed_domains": ["friends.example", "127.0.0.1:9100"]}},
        tmp_path,
        {},
    ).federation
    assert allow.is_domain_allowed("friends.example") and allow.is_domain_allowed("127.0.0.1:9100")
    assert not allow.is_domain_allowed("127.0.0.1:9101")
    assert not allow.is_domain_allowed("stranger.example")


def test_boundary_must_be_polygonal_geojson_in_range(tmp_path: Path) -> None:
    ring = [[5.0, 45.0], [5.1, 45.0], [5.1, 45.1], [5.0, 45.0]]
    (tmp_path / "ok.geojson").write_text(
        json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}})
    )
    config = parse_config(
        {**MINIMAL, "territory": {"name": "X", "boundary": "ok.geojson"}}, tmp_path, {}
    )
    assert config.territory.boundary == tmp_path / "ok.geojson"
    (tmp_path / "far.geojson").write_text(
        json.dumps({"type": "Polygon", "coordinates": [[[500, 45], [5, 45], [5, 46], [500, 45]]]})
    )
    (tmp_path / "point.geojson").write_text(json.dumps({"type": "Point", "coordinates": [5, 45]}))
    (tmp_path / "broken.geojson").write_text("{not json")
    for name, expected in [
        ("far.geojson", "out of range"),
        ("point.geojson", "expected a Polygon or MultiPolygon"),
        ("broken.geojson", "not a readable JSON file"),
        ("missing.geojson", "does not exist"),
    ]:
        raw = {**MINIMAL, "territory": {"name": "X", "boundary": name}}
        assert any(expected in p for p in problems_of(raw, tmp_path)), name


def test_written_file_loads_back_identically(tmp_path: Path) -> None:
    config = parse_config(
        {
            **MINIMAL,
            "territory": {
                "name": 'Saint-"X" l\'été',
                "description": "ligne 1\nligne 2",
                "timezone": "Indian/Reunion",
            },
            "federation": {"blocked_domains": ["spam.example"], "manual_approval": True},
        },
        tmp_path,
        {},
    )
    (tmp_path / "maillage.toml").write_text(
        render_config_toml(config, "sqlite:///maillage.sqlite3")
    )
    assert load_config(tmp_path, {}) == config


def test_unreadable_or_invalid_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="maillage init"):
        load_config(tmp_path, {})
    (tmp_path / "maillage.toml").write_text("[node\nbase_url=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path, {})


def test_limits_have_defaults_env_overrides_and_checked_values(tmp_path: Path) -> None:
    limits = parse_config(MINIMAL, tmp_path, {}).limits
    assert (limits.login_lock_account_after, limits.login_lock_address_after) == (10, 30)
    assert limits.trusted_proxies == () and not limits.is_trusted_proxy("127.0.0.1")
    environ = {
        "MAILLAGE_LIMITS_NEEDS_PER_HOUR": "3",
        "MAILLAGE_LIMITS_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
    }
    limits = parse_config(MINIMAL, tmp_path, environ).limits
    assert limits.needs_per_hour == 3
    assert limits.is_trusted_proxy("10.1.2.3") and not limits.is_trusted_proxy("192.0.2.1")
    assert not limits.is_trusted_proxy("not an address")
    with pytest.raises(ConfigError) as refused:
        parse_config(
            {
                **MINIMAL,
                "limits": {
                    "needs_per_hour": 0,
                    "trusted_proxies": ["proxy.example"],
                    "login_slow_after": 12,
                    "fetches_per_host": "many",
                },
            },
            tmp_path,
            {},
        )
    text = str(refused.value)
    assert "limits.needs_per_hour: expected a whole number from 1 to 10000; got 0" in text
    assert "limits.trusted_proxies: expected IP addresses or networks" in text
    assert "limits.fetches_per_host: expected a whole number" in text
    with pytest.raises(ConfigError, match=r"must be below limits\.login_lock_account_after"):
        parse_config({**MINIMAL, "limits": {"login_slow_after": 12}}, tmp_path, {})


def test_written_limits_load_back_identically(tmp_path: Path) -> None:
    config = parse_config(
        {**MINIMAL, "limits": {"trusted_proxies": ["::1"], "comments_per_hour": 5}}, tmp_path, {}
    )
    text = render_config_toml(config, "sqlite:///maillage.sqlite3")
    assert "[limits]" in text and "login_lock_minutes = 15" in text
    (tmp_path / "maillage.toml").write_text(text)
    assert load_config(tmp_path, {}).limits == config.limits
