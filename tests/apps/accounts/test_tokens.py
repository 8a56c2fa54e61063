"""Personal API tokens: created in the UI with the key shown once, used on the API, revoked."""

import re

from django.urls import reverse

from apps.accounts.models import ApiToken
from apps.accounts.services import token_create


def _create_in_ui(client, name="nightly script"):
    response = client.post(reverse("accounts:tokens"), {"name": name})
    match = re.search(r'id="new-token-key">([^<]+)<', response.content.decode())
    return response, match.group(1) if match else None


def test_the_key_is_shown_once_in_a_copy_box_and_stored_hashed(client, make_user):
    client.force_login(make_user("ada"))
    response, key = _create_in_ui(client)
    page = response.content.decode()
    assert key and key.startswith("mls_")
    assert 'class="secret"' in page and 'data-copy="new-token-key"' in page
    token = ApiToken.objects.get()
    assert token.key_hash != key and key not in token.key_hash
    listing = client.get(reverse("accounts:tokens")).content.decode()
    assert "nightly script" in listing and token.display_prefix in listing
    assert key not in listing


def test_a_token_needs_a_name(client, make_user):
    client.force_login(make_user("ada"))
    response = client.post(reverse("accounts:tokens"), {"name": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_key_works_on_the_api_and_records_its_use(api_client, make_user):
    token, key = token_create(user=make_user("ada"), name="ci")
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response.json()["username"] == "ada"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_key_gets_401(client, api_client, make_user):
    user = make_user("ada")
    token, key = token_create(user=user, name="ci")
    client.force_login(user)
    response = client.post(reverse("accounts:token-revoke", kwargs={"token_id": token.id}), follow=True)
    assert "was revoked" in response.content.decode()
    assert "Revoked" in response.content.decode()
    answer = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "That token was revoked."


def test_a_wrong_or_malformed_key_gets_401(api_client, make_user):
    token, key = token_create(user=make_user("ada"), name="ci")
    for header in [f"Token {key[:-2]}xx", "Token mls_nothing", "Token a b", f"Token {key.replace('mls', 'abc')}"]:
        assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header).status_code == 401


def test_a_deactivated_users_key_gets_401(api_client, make_user):
    user = make_user("ada")
    _, key = token_create(user=user, name="ci")
    user.is_active = False
    user.save()
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_nobody_can_revoke_another_users_token(client, make_user):
    token, key = token_create(user=make_user("ada"), name="ci")
    client.force_login(make_user("mallory"))
    response = client.post(reverse("accounts:token-revoke", kwargs={"token_id": token.id}))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active
    assert "ci" not in client.get(reverse("accounts:tokens")).content.decode().split("Your tokens")[1]


def test_revoke_needs_a_post(client, make_user):
    user = make_user("ada")
    token, _ = token_create(user=user, name="ci")
    client.force_login(user)
    assert client.get(reverse("accounts:token-revoke", kwargs={"token_id": token.id})).status_code == 405
