from django.urls import path

from . import jobs_views

app_name = "jobs"

urlpatterns = [
    path("jobs/", jobs_views.job_list_view, name="job-list"),
    path("jobs/<int:job_id>/", jobs_views.job_detail, name="job-detail"),
]
