from django.urls import path

from . import views

app_name = "wrangler"

FLOW = "p/<slug:project>/flows/<int:flow_id>/"
STEP = FLOW + "steps/<slug:step_id>/"

urlpatterns = [
    path("p/<slug:project>/flows/", views.flow_list_view, name="list"),
    path("p/<slug:project>/flows/new/", views.flow_create_view, name="create"),
    path("p/<slug:project>/flows/proposal/", views.proposal_add_view, name="proposal_add"),
    path(FLOW, views.flow_builder, name="builder"),
    path(FLOW + "preview/", views.flow_preview_view, name="preview"),
    path(FLOW + "picker/", views.transform_picker, name="picker"),
    path(FLOW + "form/", views.step_form, name="step-form"),
    path(FLOW + "steps/", views.step_add, name="step-add"),
    path(STEP + "update/", views.step_update, name="step-update"),
    path(STEP + "move/", views.step_move, name="step-move"),
    path(STEP + "toggle/", views.step_toggle, name="step-toggle"),
    path(STEP + "delete/", views.step_delete, name="step-delete"),
    path(FLOW + "undo/", views.flow_undo_view, name="undo"),
    path(FLOW + "settings/", views.flow_settings, name="settings"),
    path(FLOW + "apply/", views.flow_apply_view, name="apply"),
    path(FLOW + "runs/", views.flow_runs_view, name="runs"),
    path(FLOW + "schedule/", views.flow_schedule_view, name="schedule"),
    path(FLOW + "export/", views.flow_export_view, name="export"),
    path(FLOW + "fitted/", views.flow_fitted_view, name="fitted"),
    path(FLOW + "delete/", views.flow_delete_view, name="delete"),
]
