from django.urls import path

from . import views

app_name = "automl"

urlpatterns = [
    path("p/<slug:project>/training/automl/", views.automl_list, name="list"),
    path("p/<slug:project>/training/automl/new/", views.automl_new, name="new"),
    path("p/<slug:project>/training/automl/form/", views.automl_form, name="form"),
    path("p/<slug:project>/training/automl/<int:automl_job_id>/", views.automl_detail, name="detail"),
    path("p/<slug:project>/training/automl/<int:automl_job_id>/live/", views.automl_live, name="live"),
    path("p/<slug:project>/training/automl/<int:automl_job_id>/onnx/", views.automl_onnx_download, name="onnx"),
    path("p/<slug:project>/training/automl/<int:automl_job_id>/what-if/", views.automl_what_if_view,
         name="what-if"),
    path("p/<slug:project>/training/automl/<int:automl_job_id>/predict/", views.automl_predict_view,
         name="predict"),
]
