from django.urls import path

from . import views

app_name = "registry"

VERSION = "p/<slug:project>/models/versions/<int:version_id>/"
GROUP = "p/<slug:project>/models/groups/<int:group_id>/"

urlpatterns = [
    path("p/<slug:project>/models/", views.registry_list, name="list"),
    path("p/<slug:project>/models/dashboard/", views.registry_dashboard, name="dashboard"),
    path("p/<slug:project>/models/register/", views.registry_register, name="register"),
    path("p/<slug:project>/models/groups/", views.registry_group_create, name="group-create"),
    path(GROUP, views.registry_group, name="group"),
    path(GROUP + "compare/", views.registry_compare, name="compare"),
    path(GROUP + "aliases/", views.registry_alias_set, name="alias-set"),
    path(GROUP + "aliases/remove/", views.registry_alias_remove, name="alias-remove"),
    path(VERSION, views.registry_version, name="version"),
    path(VERSION + "approval/", views.registry_approval, name="approval"),
    path(VERSION + "lineage/", views.registry_lineage, name="lineage"),
    path(VERSION + "download/", views.registry_download, name="download"),
    path(VERSION + "card/", views.card_detail, name="card"),
    path(VERSION + "card/edit/", views.card_edit, name="card-edit"),
    path(VERSION + "card/history/", views.card_history, name="card-history"),
    path(VERSION + "card/export.html", views.card_export_html, name="card-export-html"),
    path(VERSION + "card/export.json", views.card_export_json, name="card-export-json"),
    path(VERSION + "card/export.pdf", views.card_export_pdf, name="card-export-pdf"),
]
