"""Replies go back to the domain app that sent the text, chosen by the text's purpose.

Domain apps register in their AppConfig.ready(), so every process (web, worker) has the same table;
messaging never imports a domain app.
"""

from collections.abc import Callable

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
