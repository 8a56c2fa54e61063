from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("switch-project/", views.switch_project, name="switch-project"),
    path("p/<slug:project>/<slug:area>/", views.area, name="area"),
]
