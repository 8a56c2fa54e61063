from django.urls import path

from . import import_views, views

app_name = "datasets"

urlpatterns = [
    path("p/<slug:project>/data/", views.dataset_list_view, name="list"),
    path("p/<slug:project>/data/upload/", views.dataset_upload_view, name="upload"),
    path("p/<slug:project>/data/import/", import_views.dataset_import_view, name="import"),
    path("p/<slug:project>/data/import/sql/", import_views.import_sql_view, name="import-sql"),
    path("p/<slug:project>/data/import/s3/", import_views.import_s3_view, name="import-s3"),
    path("p/<slug:project>/data/import/path/", import_views.import_path_view, name="import-path"),
    path("p/<slug:project>/data/import/version/", import_views.import_version_view, name="import-version"),
    path("p/<slug:project>/data/connections/", import_views.connections_view, name="connections"),
    path("p/<slug:project>/data/connections/<int:connection_id>/", import_views.connection_edit_view,
         name="connection"),
    path("p/<slug:project>/data/connections/<int:connection_id>/delete/", import_views.connection_delete_view,
         name="connection-delete"),
    path("p/<slug:project>/data/connections/<int:connection_id>/test/", import_views.connection_test_view,
         name="connection-test"),
    path("p/<slug:project>/data/<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("p/<slug:project>/data/<int:dataset_id>/live/", views.dataset_live, name="live"),
    path("p/<slug:project>/data/<int:dataset_id>/table/", views.dataset_table, name="table"),
    path("p/<slug:project>/data/<int:dataset_id>/schema/", views.dataset_schema, name="schema"),
    path("p/<slug:project>/data/<int:dataset_id>/upload/", views.dataset_reupload_view, name="reupload"),
    path("p/<slug:project>/data/<int:dataset_id>/delete/", views.dataset_delete_view, name="delete"),
    path("p/<slug:project>/data/<int:dataset_id>/versions/<int:number>/download/", views.version_download,
         name="download"),
]
