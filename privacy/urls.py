from django.urls import path

from privacy import views, views_erasure, views_public

app_name = "privacy"

urlpatterns = [
    path("audit/", views.AuditListView.as_view(), name="audit"),
    path("access/", views.SubjectAccessView.as_view(), name="access"),
    path("erase/", views_erasure.EraseView.as_view(), name="erase"),
    path("erase/done/<int:pk>/", views_erasure.EraseDoneView.as_view(), name="erase-done"),
    path("", views_public.notice, name="notice"),
]
