"""The account API: /me/, personal tokens and (for site admins) users."""

from apps.accounts.models import ApiToken
from apps.accounts.services import token_create


def test_me_shows_the_user_and_their_roles(api_client, project, member):
    api_client.force_authenticate(member("analyst", "ana"))
    body = api_client.get("/api/v1/me/").json()
    assert body["username"] == "ana" and body["site_admin"] is False
    assert body["memberships"] == [{"project": "alpha", "project_name": "Alpha", "role": "analyst",
                                    "role_label": "Analyst"}]


def test_me_needs_authentication(api_client, db):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_create_returns_the_key_once(api_client, make_user):
    api_client.force_authenticate(make_user("ada"))
    created = api_client.post("/api/v1/tokens/", {"name": "ci"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("mls_")
    detail = api_client.get(f"/api/v1/tokens/{created.json()['id']}/").json()
    assert "key" not in detail and detail["name"] == "ci" and detail["is_active"] is True
    assert key not in str(api_client.get("/api/v1/tokens/").json())


def test_token_create_needs_a_name(api_client, make_user):
    api_client.force_authenticate(make_user("ada"))
    response = api_client.post("/api/v1/tokens/", {})
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_token_list_shows_only_your_own(api_client, make_user):
    token_create(user=make_user("other"), name="theirs")
    ada = make_user("ada")
    token_create(user=ada, name="mine")
    api_client.force_authenticate(ada)
    names = [row["name"] for row in api_client.get("/api/v1/tokens/").json()["results"]]
    assert names == ["mine"]


def test_token_revoke_by_delete_and_by_post(api_client, make_user):
    ada = make_user("ada")
    first, first_key = token_create(user=ada, name="one")
    second, _ = token_create(user=ada, name="two")
    api_client.force_authenticate(ada)
    assert api_client.delete(f"/api/v1/tokens/{first.id}/").status_code == 204
    revoked = api_client.post(f"/api/v1/tokens/{second.id}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {first_key}").status_code == 401


def test_another_users_token_is_404_for_read_delete_and_revoke(api_client, make_user):
    token, _ = token_create(user=make_user("ada"), name="ci")
    api_client.force_authenticate(make_user("mallory"))
    assert api_client.get(f"/api/v1/tokens/{token.id}/").status_code == 404
    assert api_client.delete(f"/api/v1/tokens/{token.id}/").status_code == 404
    assert api_client.post(f"/api/v1/tokens/{token.id}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_tokens_need_authentication(api_client, db):
    assert api_client.get("/api/v1/tokens/").status_code == 401
    assert api_client.post("/api/v1/tokens/", {"name": "x"}).status_code == 401


def test_site_admin_lists_and_creates_users(api_client, make_user):
    api_client.force_authenticate(make_user("root", superuser=True))
    created = api_client.post("/api/v1/users/", {"username": "newbie", "email": "n@example.org"})
    assert created.status_code == 201
    body = created.json()
    assert body["username"] == "newbie" and len(body["generated_password"]) >= 16
    usernames = [row["username"] for row in api_client.get("/api/v1/users/").json()["results"]]
    assert usernames == ["newbie", "root"]
    assert api_client.get(f"/api/v1/users/{body['id']}/").json()["is_active"] is True


def test_user_create_rejects_a_weak_password_and_a_taken_name(api_client, make_user):
    api_client.force_authenticate(make_user("root", superuser=True))
    weak = api_client.post("/api/v1/users/", {"username": "newbie", "password": "12345"})
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["fields"]
    taken = api_client.post("/api/v1/users/", {"username": "ROOT", "password": "a-fine-long-passphrase"})
    assert taken.status_code == 409
    assert "taken" in taken.json()["error"]["message"]


def test_site_admin_deactivates_and_reactivates_a_user(api_client, make_user):
    user = make_user("ada")
    root = make_user("root", superuser=True)
    api_client.force_authenticate(root)
    assert api_client.post(f"/api/v1/users/{user.id}/deactivate/").json()["is_active"] is False
    assert api_client.post(f"/api/v1/users/{user.id}/reactivate/").json()["is_active"] is True
    own = api_client.post(f"/api/v1/users/{root.id}/deactivate/")
    assert own.status_code == 400 and "your own account" in own.json()["error"]["message"]


def test_users_api_is_for_site_admins_only(api_client, project, member):
    user = member("admin", "projectadmin")
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/users/").status_code == 403
    assert api_client.post("/api/v1/users/", {"username": "x"}).status_code == 403
    assert api_client.get(f"/api/v1/users/{user.id}/").status_code == 403
    assert api_client.post(f"/api/v1/users/{user.id}/deactivate/").status_code == 403
    assert api_client.post(f"/api/v1/users/{user.id}/reactivate/").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/users/").status_code == 401
