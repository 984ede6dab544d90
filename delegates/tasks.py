"""Background work for imports: big files are checked and imported by a worker while the page shows progress."""

from celery import shared_task

from delegates import imports
from delegates.models import PendingImport


@shared_task(ignore_result=True)
def run_pending_import(pending_id: int, action: str) -> None:
    """``action`` is "check" (the preview) or "import" (the confirm). A row already gone was cancelled."""
    pending = PendingImport.objects.select_related("conference", "created_by").filter(pk=pending_id).first()
    if pending is None:
        return
    if action == "check" and pending.status == PendingImport.Status.CHECKING:
        imports.check_pending_import(pending=pending)
    elif action == "import" and pending.status == PendingImport.Status.IMPORTING:
        imports.confirm_pending_import(pending=pending, keep_result=True)


@shared_task(ignore_result=True)
def purge_stale_imports() -> int:
    return imports.purge_stale_imports()
