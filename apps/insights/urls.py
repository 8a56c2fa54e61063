from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("p/<slug:project>/data/<int:dataset_id>/insights/", views.dataset_section, name="dataset-section"),
    path("p/<slug:project>/data/<int:dataset_id>/insights/start/", views.report_start, name="start"),
    path("p/<slug:project>/data/<int:dataset_id>/insights/<int:report_id>/", views.report_detail, name="detail"),
    path("p/<slug:project>/data/<int:dataset_id>/insights/<int:report_id>/live/", views.report_live, name="live"),
]
