from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith("insecure-dev-key"):
        return [
            Error(
                "DJANGO_SECRET_KEY is not set; the development key must not be used in production.", id="cardvote.E001"
            )
        ]
    return []
