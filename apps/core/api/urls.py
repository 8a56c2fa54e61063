from rest_framework.routers import SimpleRouter

from .artifacts import ArtifactViewSet
from .jobs import JobViewSet

router = SimpleRouter()
router.register("jobs", JobViewSet, basename="api-job")
router.register("artifacts", ArtifactViewSet, basename="api-artifact")

urlpatterns = router.urls
