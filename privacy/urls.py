from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("audit/", views.AuditListView.as_view(), name="audit"),
    path("access/", views.SubjectAccessView.as_view(), name="access"),
]
