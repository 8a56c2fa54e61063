from rest_framework.routers import SimpleRouter

from .views import AutoMLJobViewSet

router = SimpleRouter()
router.register("automl-jobs", AutoMLJobViewSet, basename="api-automl-job")

urlpatterns = router.urls
