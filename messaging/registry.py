"""Replies go back to the domain app that sent the text, chosen by the text's purpose.

Domain apps register in their AppConfig.ready(), so every process (web, worker) has the same table;
messaging never imports a domain app.
"""

from collections.abc import Callable
from dataclasses import dataclass

# purpose -> handler(inbound: InboundMessage) -> bool | None. A truthy return marks the reply handled.
_handlers: dict[str, Callable] = {}


def register_reply_handler(purpose: str, handler: Callable) -> None:
    if not purpose:
        raise ValueError("A reply handler needs a purpose.")
    _handlers[purpose] = handler


def unregister_reply_handler(purpose: str) -> None:
    _handlers.pop(purpose, None)


def get_reply_handler(purpose: str) -> Callable | None:
    return _handlers.get(purpose) if purpose else None


@dataclass(frozen=True)
class Contact:
    """Who a number belongs to, as a domain app knows it, for coordinator pages."""

    label: str
    url: str = ""


# name -> resolver(numbers: set[str]) -> {number: Contact}; each resolver should answer in one query.
_contact_resolvers: dict[str, Callable] = {}


def register_contact_resolver(name: str, resolver: Callable) -> None:
    _contact_resolvers[name] = resolver


def resolve_contacts(numbers) -> dict[str, Contact]:
    """The people behind these numbers, from every domain app that knows some of them."""
    numbers = {n for n in numbers if n}
    found: dict[str, Contact] = {}
    if not numbers:
        return found
    for resolver in _contact_resolvers.values():
        for number, contact in resolver(numbers).items():
            found.setdefault(number, contact)
    return found
