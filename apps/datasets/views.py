from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.permissions import project_view
from apps.core.roles import Activity


@project_view(Activity.VIEW)
def dataset_list(request: HttpRequest, project) -> HttpResponse:
    return render(request, "datasets/list.html", {"active_area": "data"})
