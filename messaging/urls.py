"""Twilio webhooks, under /sms/. Filled in by the messaging issue."""

urlpatterns: list = []
