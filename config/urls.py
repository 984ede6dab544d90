from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from config.views_account import AccountTokenView

api_patterns = [
    path("", include("delegates.api_urls")),
    path("", include("lobbying.api_urls")),
    path("", include("volunteers.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/token/", AccountTokenView.as_view(), name="account-token"),
    path("api/", include(api_patterns)),
    path("sms/", include("messaging.urls")),
    path("messages/", include("messaging.urls_inbox")),
    path("shifts/", include("volunteers.urls")),
    path("lobbying/", include("lobbying.urls")),
    path("privacy/", include("privacy.urls")),
    path("", include("dashboard.urls")),
    path("", include("delegates.urls")),
]

handler404 = "config.views_errors.page_not_found"
