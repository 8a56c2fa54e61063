from rest_framework.routers import SimpleRouter

from .views import FlowViewSet, TransformViewSet

router = SimpleRouter()
router.register("transforms", TransformViewSet, basename="api-transform")
router.register("flows", FlowViewSet, basename="api-flow")

urlpatterns = router.urls
