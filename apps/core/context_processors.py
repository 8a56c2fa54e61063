from django.conf import settings
from django.http import HttpRequest

from .navigation import AREAS
from .selectors import project_list


def studio(request: HttpRequest) -> dict[str, object]:
    # Left unevaluated: read only by pages that show the project switcher (not by htmx fragments).
    projects = project_list(user=request.user) if request.user.is_authenticated else []
    return {
        "site_name": settings.STUDIO_SITE_NAME,
        "nav_areas": AREAS,
        "my_projects": projects,
        "current_project": getattr(request, "project", None),
        "current_role": getattr(request, "project_role", None),
    }
