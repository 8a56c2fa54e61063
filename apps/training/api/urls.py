from rest_framework.routers import SimpleRouter

from .views import AlgorithmViewSet, TrainingJobViewSet

router = SimpleRouter()
router.register("algorithms", AlgorithmViewSet, basename="api-algorithm")
router.register("training-jobs", TrainingJobViewSet, basename="api-training-job")

urlpatterns = router.urls
