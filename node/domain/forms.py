"""Reading submitted fields (web forms, and the CLI, imports and APIs that validate the same
things): each field checked, every problem reported with the field and the reason (in French;
the templates translate them), never a 500. Below the services, since it is not HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from node.domain.local_time import NonexistentLocalTime, from_local_input
from protocols.links import MAX_URL_LENGTH, is_web_url

BAD_MOMENT = "Entrez une date et une heure, par exemple 2026-04-15 18:00."
SKIPPED_MOMENT = (
    "Cette heure n'existe pas ce jour-là (passage à l'heure d'été) : choisissez-en une autre."
)

WEB_ADDRESS_EXPECTED = "Indiquez une adresse web commençant par https:// ou http://."
"""The reason given for a URL that is not http(s): javascript:, data: and the like become
links that run script, so they are refused wherever a URL is typed."""


class FormInvalid(ValueError):
    """The form has problems: field name -> reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Form:
    """Typed access to submitted fields, collecting errors instead of raising at once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, required: bool = True, max_length: int = 200) -> str:
        """A trimmed text field."""
        value = str(self.data.get(name, "")).strip()
        if required and not value:
            self.errors[name] = "Ce champ est obligatoire."
        elif len(value) > max_length:
            self.errors[name] = "Ce texte est trop long."
        return value

    def web_url(
        self, name: str, *, required: bool = True, max_length: int = MAX_URL_LENGTH
    ) -> str:
        """A trimmed http(s) address (it becomes a link: other schemes are refused)."""
        value = self.text(name, required=required, max_length=max_length)
        if value and name not in self.errors and not is_web_url(value):
            self.errors[name] = WEB_ADDRESS_EXPECTED
        return value

    def choice(
        self, name: str, choices: tuple[str, ...] | list[str], *, required: bool = True
    ) -> str:
        """One of the allowed values."""
        value = str(self.data.get(name, "")).strip()
        if not value and not required:
            return ""
        if value not in choices:
            self.errors[name] = "Choisissez une des valeurs proposées."
        return value

    def number(
        self,
        name: str,
        *,
        required: bool = True,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        """A decimal number (a comma is accepted as the decimal separator)."""
        raw = str(self.data.get(name, "")).strip().replace(",", ".")
        if not raw:
            if required:
                self.errors[name] = "Ce champ est obligatoire."
            return None
        try:
            value = float(raw)
        except ValueError:
            self.errors[name] = "Entrez un nombre, par exemple 12,5."
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.errors[name] = "Entrez un nombre, par exemple 12,5."
            return None
        if minimum is not None and value < minimum:
            self.errors[name] = "Ce nombre est trop petit."
        elif maximum is not None and value > maximum:
            self.errors[name] = "Ce nombre est trop grand."
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        """A date written YYYY-MM-DD (what <input type=date> sends)."""
        raw = str(self.data.get(name, "")).strip()
        if not raw:
            if required:
                self.errors[name] = "Ce champ est obligatoire."
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = "Entrez une date au format AAAA-MM-JJ."
            return None

    def moment(self, name: str, zone: tzinfo, *, required: bool = True) -> datetime | None:
        """A date and time typed on the territory's clock (what <input type=datetime-local>
        sends), as the UTC moment it means."""
        raw = str(self.data.get(name, "")).strip()
        if not raw:
            if required:
                self.errors[name] = "Ce champ est obligatoire."
            return None
        try:
            return from_local_input(raw, zone)
        except NonexistentLocalTime:
            self.errors[name] = SKIPPED_MOMENT
        except ValueError:
            self.errors[name] = BAD_MOMENT
        return None

    def check(self, condition: bool, name: str, reason: str) -> None:
        """Add a cross-field problem when `condition` is false."""
        if not condition and name not in self.errors:
            self.errors[name] = reason

    def raise_if_invalid(self) -> None:
        """Raise FormInvalid when any field has a problem."""
        if self.errors:
            raise FormInvalid(self.errors)
