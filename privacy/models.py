from django.conf import settings
from django.db import models
from django.utils import timezone

# Django permission codename (app label "privacy") that gates subject access exports and erasure.
DATA_PROTECTION_PERMISSION = "privacy.data_protection"


class AuditEvent(models.Model):
    """Append-only record of an access to personal data in bulk, or of its removal: who, when, what, how many.

    Holds no personal data itself: `what` names the kind of thing (e.g. "delegates CSV export"), never a person,
    and `detail` carries counts and ids of non-personal objects only.
    """

    class Action(models.TextChoices):
        EXPORT = "export", "Export"
        IMPORT = "import", "Import"
        BULK_DOWNLOAD = "bulk_download", "Bulk download"
        SUBJECT_ACCESS = "subject_access", "Subject access export"
        ERASURE = "erasure", "Erasure"
        RETENTION = "retention", "Retention run"

    action = models.CharField(max_length=20, choices=Action.choices)
    what = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")  # fmt: skip
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        permissions = [("data_protection", "Can export and erase a person's data (data protection)")]

    def __str__(self):
        return f"{self.get_action_display()}: {self.what} ({self.count})"
