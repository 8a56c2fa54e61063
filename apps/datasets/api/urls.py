from rest_framework.routers import SimpleRouter

from .connections import ConnectionViewSet
from .views import DatasetViewSet

router = SimpleRouter()
router.register("datasets", DatasetViewSet, basename="api-dataset")
router.register("connections", ConnectionViewSet, basename="api-connection")

urlpatterns = router.urls
