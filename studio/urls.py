from django.urls import include, path

from apps.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("apps.accounts.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.wrangler.urls")),
    path("", include("apps.insights.urls")),
    path("", include("apps.training.urls")),
    path("", include("apps.automl.urls")),
    path("", include("apps.experiments.urls")),
    path("", include("apps.tuning.urls")),
    path("", include("apps.registry.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.core.jobs_urls")),
    path("api/v1/", include("studio.api_urls")),
]

handler400 = "apps.core.error_views.bad_request"
handler403 = "apps.core.error_views.permission_denied"
handler404 = "apps.core.error_views.page_not_found"
handler500 = "apps.core.error_views.server_error"
