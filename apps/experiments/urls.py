from django.urls import path

from . import views

app_name = "experiments"

urlpatterns = [
    path("p/<slug:project>/experiments/", views.experiment_index, name="list"),
    path("p/<slug:project>/experiments/new/", views.experiment_create, name="create"),
    path("p/<slug:project>/experiments/<int:experiment_id>/", views.experiment_detail, name="detail"),
    path("p/<slug:project>/experiments/<int:experiment_id>/delete/", views.experiment_delete, name="delete"),
    path("p/<slug:project>/experiments/<int:experiment_id>/restore/", views.experiment_restore, name="restore"),
    path("p/<slug:project>/runs/compare/", views.run_compare, name="compare"),
    path("p/<slug:project>/runs/<int:run_id>/", views.run_detail, name="run"),
    path("p/<slug:project>/runs/<int:run_id>/delete/", views.run_delete, name="run-delete"),
    path("p/<slug:project>/runs/<int:run_id>/restore/", views.run_restore, name="run-restore"),
]
