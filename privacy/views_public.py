"""The public privacy notice (UK GDPR Articles 13 and 14): what is held, why, on what basis, for how long, and
how people use their rights. Generated from settings, so each campaign states its own name and contact."""

from django.conf import settings
from django.shortcuts import render

from messaging.text import OPT_OUT_LINE


def notice(request):
    context = {
        "organisation": settings.PRIVACY_ORGANISATION_NAME,
        "contact": settings.PRIVACY_CONTACT,
        "contact_is_email": "@" in settings.PRIVACY_CONTACT and " " not in settings.PRIVACY_CONTACT,
        "retention_days": settings.PRIVACY_RETENTION_DAYS,
        "sender": settings.SMS_SENDER_NAME,
        "opt_out_line": OPT_OUT_LINE,
    }
    return render(request, "privacy/notice.html", context)
