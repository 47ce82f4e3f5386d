"""Domain blocks in memory: how a domain is spelled for comparison, and which block covers it.

The node keeps its blocks in its database and hands a snapshot to `DomainRules` (at start-up
and whenever an admin changes them); the inbox pipeline, the outbound client and the delivery
worker look rules up here, without I/O, on every request.
"""

from __future__ import annotations

from collections.abc import Iterable

from yarl import URL

from federation.ports import DomainPolicy, DomainRule, DomainSeverity


class InvalidDomain(ValueError):
    """Not something a domain block can name; the message says why."""


def normalise_domain(value: str) -> str:
    """The comparable spelling of a domain: lower case, IDNA (punycode), no trailing dot, the
    port kept when given (host:port), a leading `*.` dropped (blocks cover subdomains anyway).

    Un-normalised spellings enabled block bypasses in Mastodon (CVE-2023-42451).

    >>> normalise_domain("Exämple.COM.")
    'xn--exmple-cua.com'
    >>> normalise_domain("*.spam.example:8443")
    'spam.example:8443'
    >>> normalise_domain("127.0.0.1:9100")
    '127.0.0.1:9100'
    """
    text = value.strip().removeprefix("*.")
    if not text or any(char in text for char in "/?#@\\ \t\r\n"):
        raise InvalidDomain(f"{value!r} is not a domain (host or host:port)")
    try:
        url = URL(f"http://{text}")
        host = (url.raw_host or "").lower().rstrip(".")
        port = url.explicit_port
    except (TypeError, ValueError):
        raise InvalidDomain(f"{value!r} is not a domain (host or host:port)") from None
    if not host or ".." in host:
        raise InvalidDomain(f"{value!r} is not a domain (host or host:port)")
    if ":" in host:
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


def covering(domain: str) -> list[str]:
    """The rule names that cover a domain, most specific first: itself, its host without the
    port, then each parent domain.

    >>> covering("a.b.example:8080")
    ['a.b.example:8080', 'a.b.example', 'b.example', 'example']
    >>> covering("[::1]:8080")
    ['[::1]:8080', '[::1]']
    """
    domain = domain.lower().rstrip(".")
    names = [domain]
    host = domain
    if domain.startswith("["):
        host = domain.split("]", 1)[0] + "]"
    elif ":" in domain:
        host = domain.rsplit(":", 1)[0]
    if host != domain:
        names.append(host)
    if host.startswith("[") or host.replace(".", "").isdigit():
        return names  # an IP address has no parent domains
    labels = host.split(".")
    names += [".".join(labels[index:]) for index in range(1, len(labels))]
    return names


class DomainRules:
    """The node's domain blocks as a snapshot in memory (implements ports.DomainPolicy)."""

    def __init__(self, rules: Iterable[DomainRule] = ()) -> None:
        """Start with these rules (none by default)."""
        self._rules: dict[str, DomainRule] = {}
        self.replace(rules)

    def replace(self, rules: Iterable[DomainRule]) -> None:
        """Swap in a new snapshot (after the admin changed the blocks)."""
        self._rules = {rule.domain: rule for rule in rules}

    def rule_for(self, domain: str) -> DomainRule | None:
        """The most specific block covering `domain` (host[:port]), or None."""
        if not self._rules:
            return None
        for name in covering(domain):
            rule = self._rules.get(name)
            if rule is not None:
                return rule
        return None

    def __len__(self) -> int:
        """How many blocks the snapshot holds."""
        return len(self._rules)


def suspends(policy: DomainPolicy | None, domain: str) -> bool:
    """Whether a policy (None: no blocks) suspends `domain`: nothing may be exchanged."""
    rule = policy.rule_for(domain) if policy is not None else None
    return rule is not None and rule.severity is DomainSeverity.SUSPEND
