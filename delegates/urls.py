from django.urls import path

from delegates import views
from delegates.views_import import DelegateImportView, PendingImportProgressView, PendingImportView

urlpatterns = [
    path("organisations/", views.OrganisationListView.as_view(), name="organisation-list"),
    path("organisations/new/", views.OrganisationCreateView.as_view(), name="organisation-create"),
    path("organisations/<int:pk>/", views.OrganisationDetailView.as_view(), name="organisation-detail"),
    path("organisations/<int:pk>/edit/", views.OrganisationUpdateView.as_view(), name="organisation-update"),
    path("delegates/", views.DelegateListView.as_view(), name="delegate-list"),
    path("delegates/export.csv", views.DelegateExportView.as_view(), name="delegate-export"),
    path("delegates/new/", views.DelegateCreateView.as_view(), name="delegate-create"),
    path("delegates/<int:pk>/", views.DelegateDetailView.as_view(), name="delegate-detail"),
    path("delegates/<int:pk>/edit/", views.DelegateUpdateView.as_view(), name="delegate-update"),
    path("import/", DelegateImportView.as_view(), name="delegate-import"),
    path("import/<str:token>/", PendingImportView.as_view(), name="delegate-import-pending"),
    path("import/<str:token>/progress", PendingImportProgressView.as_view(), name="delegate-import-progress"),
]
