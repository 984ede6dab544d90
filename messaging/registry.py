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


@dataclass(frozen=True)
class ConsentDecision:
    """Whether a domain app holds live consent to marketing texts for a number, and why, in words a person reads.

    ``reason`` is kept on the outbox row: the consent a sent text relied on, or why a text was skipped.
    """

    allowed: bool
    reason: str


NO_CONSENT = ConsentDecision(allowed=False, reason="no SMS consent on record")

# name -> check(numbers: set[str]) -> {number: ConsentDecision}, for the numbers the app knows; ONE query per
# app for any number of numbers, so a briefing's cost stays flat. Registered in AppConfig.ready().
_consent_checks: dict[str, Callable] = {}


def register_consent_check(name: str, check: Callable) -> None:
    if not name:
        raise ValueError("A consent check needs a name.")
    _consent_checks[name] = check


def unregister_consent_check(name: str) -> None:
    _consent_checks.pop(name, None)


def _kept(current: ConsentDecision, found: ConsentDecision) -> ConsentDecision:
    """Of two apps' decisions for a number, the one that stands: live consent anywhere wins; otherwise the first
    telling refusal ("consent withdrawn on …") over "no SMS consent on record"."""
    if current.allowed:
        return current
    return found if found.allowed or current is NO_CONSENT else current


def consent_for(number: str) -> ConsentDecision:
    """check_consent for one number, stopping at the first app that holds live consent: the worker asks again
    just before sending each campaign text, usually in one query (delegates are asked first)."""
    decision = NO_CONSENT
    for check in _consent_checks.values():
        found = check({number}).get(number) if number else None
        if found is not None:
            decision = _kept(decision, found)
            if decision.allowed:
                return decision
    return decision


def check_consent(numbers) -> dict[str, ConsentDecision]:
    """A decision for every number: allowed when any app holds live consent for it (a number two delegates
    share, one of whom consented, may be texted). Otherwise the most telling refusal ("consent withdrawn on …"
    beats "no SMS consent on record")."""
    numbers = {n for n in numbers if n}
    decisions: dict[str, ConsentDecision] = dict.fromkeys(numbers, NO_CONSENT)
    if not numbers:
        return decisions
    for check in _consent_checks.values():
        for number, decision in check(numbers).items():
            if number in decisions:
                decisions[number] = _kept(decisions[number], decision)
    return decisions
