"""Coordinator pages for replies and per-number history; mounted at /messages/ in config/urls.py.

Numbers never appear in these URLs: a history page is reached through the id of a reply ("in") or of
a sent text ("out"), or through the POSTed lookup form.
"""

from django.urls import path, re_path

from messaging import views_inbox as views

app_name = "inbox"

urlpatterns = [
    path("", views.InboxView.as_view(), name="list"),
    path("replies/<int:pk>/handled/", views.MarkHandledView.as_view(), name="handled"),
    path("replies/<int:pk>/opt-out/", views.ReplyOptOutView.as_view(), name="reply-opt-out"),
    path("number/", views.NumberLookupView.as_view(), name="number-lookup"),
    re_path(r"^number/(?P<kind>in|out)/(?P<pk>[0-9]+)/$", views.NumberHistoryView.as_view(), name="number-history"),
    re_path(
        r"^number/(?P<kind>in|out)/(?P<pk>[0-9]+)/opt-out/$", views.NumberOptOutView.as_view(), name="number-opt-out"
    ),
]
