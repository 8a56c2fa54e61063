"""The studio's URLs plus a stand-in for the flow builder's "add a proposed step" address."""

from django.http import HttpResponse
from django.urls import include, path

from apps.core.permissions import login_view
from studio.urls import urlpatterns as studio_urlpatterns


@login_view
def proposal_add(request):
    return HttpResponse("added")


wrangler_patterns = ([path("flows/proposals/add/", proposal_add, name="proposal_add")], "wrangler")
urlpatterns = [*studio_urlpatterns, path("", include(wrangler_patterns))]
