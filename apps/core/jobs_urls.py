from django.urls import path

from . import jobs_views

app_name = "jobs"

urlpatterns = [
    path("jobs/", jobs_views.job_list_view, name="job-list"),
    path("jobs/<int:job_id>/", jobs_views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/live/", jobs_views.job_live, name="job-live"),
    path("jobs/<int:job_id>/stop/", jobs_views.job_stop_view, name="job-stop"),
    path("jobs/<int:job_id>/retry/", jobs_views.job_retry_view, name="job-retry"),
]
