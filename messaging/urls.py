"""Twilio webhooks, mounted at /sms/ (no namespace: the names are part of the contract)."""

from django.urls import path

from messaging import views

urlpatterns = [
    path("twilio/status/", views.twilio_status, name="twilio-status"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio-inbound"),
]
