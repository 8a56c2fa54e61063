from rest_framework.routers import SimpleRouter

from .artifacts import ArtifactViewSet
from .jobs import JobViewSet
from .projects import AuditEventViewSet, MemberViewSet, ProjectViewSet, RoleMatrixViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register(r"projects/(?P<project>[-a-zA-Z0-9_]+)/members", MemberViewSet, basename="project-member")
router.register("roles", RoleMatrixViewSet, basename="role")
router.register("audit", AuditEventViewSet, basename="audit")
router.register("jobs", JobViewSet, basename="api-job")
router.register("artifacts", ArtifactViewSet, basename="api-artifact")

urlpatterns = router.urls
