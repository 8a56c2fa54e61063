from rest_framework.routers import SimpleRouter

from .views import ModelCardViewSet, ModelGroupViewSet, ModelVersionViewSet

router = SimpleRouter()
router.register("model-groups", ModelGroupViewSet, basename="api-model-group")
router.register("model-versions", ModelVersionViewSet, basename="api-model-version")
router.register("model-cards", ModelCardViewSet, basename="api-model-card")

urlpatterns = router.urls
