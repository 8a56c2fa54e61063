from django.urls import path

from . import views

app_name = "datasets"

urlpatterns = [
    path("p/<slug:project>/data/", views.dataset_list, name="list"),
]
