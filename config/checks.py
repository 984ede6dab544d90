from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    if settings.SECRET_KEY.startswith("insecure-dev-key"):
        return [
            Error(
                "DJANGO_SECRET_KEY is not set; the development key must not be used in production.", id="cardvote.E001"
            )
        ]
    return []


@register(Tags.security, deploy=True)
def public_base_url_is_https(app_configs, **kwargs):
    """The HTTPS settings (Secure cookies, redirect, HSTS) follow PUBLIC_BASE_URL: an http:// one leaves them off."""
    if not settings.DEBUG and not settings.PUBLIC_BASE_URL.startswith("https://"):
        return [
            Warning(
                f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL}; set it to the site's https:// address.",
                hint="Secure cookies, the HTTPS redirect and HSTS are on only when PUBLIC_BASE_URL is https://.",
                id="cardvote.W001",
            )
        ]
    return []
