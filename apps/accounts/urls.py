from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("roles/", views.roles, name="roles"),
    path("roles/projects/new/", views.project_new, name="project-new"),
    path("roles/<slug:project>/members/add/", views.member_add, name="member-add"),
    path("roles/<slug:project>/members/<int:user_id>/role/", views.member_role, name="member-role"),
    path("roles/<slug:project>/members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path("users/", views.users, name="users"),
    path("users/<int:user_id>/active/", views.user_active, name="user-active"),
    path("audit/", views.audit, name="audit"),
]
