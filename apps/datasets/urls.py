from django.urls import path

from . import views

app_name = "datasets"

urlpatterns = [
    path("p/<slug:project>/data/", views.dataset_list_view, name="list"),
    path("p/<slug:project>/data/upload/", views.dataset_upload_view, name="upload"),
    path("p/<slug:project>/data/<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("p/<slug:project>/data/<int:dataset_id>/live/", views.dataset_live, name="live"),
    path("p/<slug:project>/data/<int:dataset_id>/table/", views.dataset_table, name="table"),
    path("p/<slug:project>/data/<int:dataset_id>/schema/", views.dataset_schema, name="schema"),
    path("p/<slug:project>/data/<int:dataset_id>/upload/", views.dataset_reupload_view, name="reupload"),
    path("p/<slug:project>/data/<int:dataset_id>/delete/", views.dataset_delete_view, name="delete"),
    path("p/<slug:project>/data/<int:dataset_id>/versions/<int:number>/download/", views.version_download,
         name="download"),
]
