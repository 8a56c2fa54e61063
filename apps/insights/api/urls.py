from rest_framework.routers import SimpleRouter

from .views import InsightsReportViewSet

router = SimpleRouter()
router.register("insights-reports", InsightsReportViewSet, basename="api-insights-report")

urlpatterns = router.urls
