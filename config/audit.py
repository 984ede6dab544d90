"""The access audit's front door: any app reports an access to personal data in bulk, or its removal, here.

Domain apps import ``config``, never ``privacy``; so they call :func:`record_access`, which sends the
``personal_data_accessed`` signal, and ``privacy`` (its AppConfig.ready) connects the receiver that writes the
append-only ``privacy.AuditEvent``. ``what`` names the kind of thing ("delegates CSV export"), never a person;
``detail`` holds counts and ids of non-personal objects (a conference, a filter's field names), never values.

Recorded: CSV exports, confirmed imports, API list calls beyond one default page (see ``config.api``), subject
access exports, erasures and retention runs.
"""

from django.dispatch import Signal

EXPORT = "export"
IMPORT = "import"
BULK_DOWNLOAD = "bulk_download"
SUBJECT_ACCESS = "subject_access"
ERASURE = "erasure"
RETENTION = "retention"
ACTIONS = (EXPORT, IMPORT, BULK_DOWNLOAD, SUBJECT_ACCESS, ERASURE, RETENTION)

# Sent with action, what, count, actor (a user or None for beat and commands) and detail (a dict).
personal_data_accessed = Signal()


def record_access(*, action: str, what: str, count: int, actor=None, detail: dict | None = None) -> None:
    """Report one access (an export, import, bulk download, subject access, erasure, retention run)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; one of {', '.join(ACTIONS)}.")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # AnonymousUser: a public page or a command
    personal_data_accessed.send(
        sender=record_access, action=action, what=what, count=int(count), actor=actor, detail=detail or {}
    )
