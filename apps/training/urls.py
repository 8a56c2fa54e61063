from django.urls import path

from . import views

app_name = "training"

urlpatterns = [
    path("p/<slug:project>/training/", views.training_list, name="list"),
    path("p/<slug:project>/training/new/", views.training_new, name="new"),
    path("p/<slug:project>/training/new/script/", views.training_new_script, name="new-script"),
    path("p/<slug:project>/training/form/", views.training_form, name="form"),
    path("p/<slug:project>/training/<int:training_job_id>/", views.training_detail, name="detail"),
    path("p/<slug:project>/training/<int:training_job_id>/onnx/", views.training_onnx_download, name="onnx"),
    path("p/<slug:project>/training/<int:training_job_id>/live/", views.training_live, name="live"),
]
