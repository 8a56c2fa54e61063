from django.urls import path

from . import views

app_name = "tuning"

urlpatterns = [
    path("p/<slug:project>/tuning/", views.tuning_list, name="list"),
    path("p/<slug:project>/tuning/new/", views.tuning_new, name="new"),
    path("p/<slug:project>/tuning/form/", views.tuning_form, name="form"),
    path("p/<slug:project>/tuning/<int:tuning_job_id>/", views.tuning_detail, name="detail"),
    path("p/<slug:project>/tuning/<int:tuning_job_id>/live/", views.tuning_live, name="live"),
    path("p/<slug:project>/tuning/<int:tuning_job_id>/stop/", views.tuning_stop, name="stop"),
]
