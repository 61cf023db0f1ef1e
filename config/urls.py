from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from config.accounts import LogoutView, TokenView, TokenViewSet
from config.api import api_not_found
from config.health import views as health
from config.pages import favicon

handler500 = "config.pages.server_error"

admin.site.site_header = gettext_lazy("Infusion pharmacy administration")
admin.site.site_title = gettext_lazy("Infusion pharmacy")


tokens = SimpleRouter()
tokens.register("auth/tokens", TokenViewSet, basename="token")

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    *tokens.urls,
    path("", include("inventory.urls")),
    path("", include("notifications.urls")),
    path("", include("courses.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("courses.page_urls")),
    path("", include("inventory.page_urls")),
    path("", include("notifications.page_urls")),
    path("", include("history.urls")),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Namespaced, so the API router's names (course-list, lot-detail …) never shadow the pages'.
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=()), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=()),
        name="api-docs",
    ),
    # Last: whatever under /api/ matched nothing above answers a JSON 404.
    re_path(r"^api/", api_not_found, name="api-not-found"),
]
