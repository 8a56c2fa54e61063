from rest_framework.routers import SimpleRouter

from .views import ExperimentViewSet, RunViewSet

router = SimpleRouter()
router.register("experiments", ExperimentViewSet, basename="api-experiment")
router.register("runs", RunViewSet, basename="api-run")

urlpatterns = router.urls
