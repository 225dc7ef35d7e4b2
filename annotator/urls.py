from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.common.health import healthz, readyz

# A body Django refuses before any view runs (over DATA_UPLOAD_MAX_MEMORY_SIZE, ...) gets the API's JSON error body.
handler400 = "annotator.api.exception_handlers.bad_request"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),  # django-axes guards it (common/login.py)
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: the Swagger UI script comes from this URL (?script=), not inline, for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/", include("annotator.api.urls")),
    path("", include("annotator.ui.urls")),
]
