from rest_framework.routers import SimpleRouter

from .views import TuningJobViewSet, TuningStrategyViewSet

router = SimpleRouter()
router.register("tuning-strategies", TuningStrategyViewSet, basename="api-tuning-strategy")
router.register("tuning-jobs", TuningJobViewSet, basename="api-tuning-job")

urlpatterns = router.urls
