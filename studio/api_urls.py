"""/api/v1/: every area's router, the OpenAPI schema and its docs page (served from static files)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("apps.core.api.urls")),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.datasets.api.urls")),
    path("", include("apps.wrangler.api.urls")),
    path("", include("apps.insights.api.urls")),
    path("", include("apps.training.api.urls")),
    path("", include("apps.automl.api.urls")),
    path("", include("apps.experiments.api.urls")),
    path("", include("apps.tuning.api.urls")),
    path("", include("apps.registry.api.urls")),
]
