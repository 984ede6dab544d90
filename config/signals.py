from django.conf import settings
from django.db.models.signals import post_migrate, post_save
from django.dispatch import receiver

# Apps whose data coordinators manage in full.
# Not knox: coordinators see and rotate only their own token (/account/token/); superusers manage everyone's.
COORDINATOR_APPS = {"delegates", "lobbying", "volunteers", "messaging"}


@receiver(post_migrate)
def ensure_coordinators_group(sender, app_config=None, using="default", **kwargs):
    """The coordinators group always exists and holds every permission on Cardvote's own data.

    Runs after auth's create_permissions for the same app, so the permissions exist by then.
    """
    if app_config is None or app_config.label not in COORDINATOR_APPS | {"config"}:
        return
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=settings.COORDINATORS_GROUP)
    if app_config.label in COORDINATOR_APPS:
        group.permissions.add(*Permission.objects.using(using).filter(content_type__app_label=app_config.label))


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def deactivated_users_lose_their_api_tokens(sender, instance, **kwargs):
    """Deactivating a user kills their tokens at once (deleting one does too: the foreign key cascades)."""
    if not instance.is_active:
        from knox.models import AuthToken

        AuthToken.objects.filter(user=instance).delete()
