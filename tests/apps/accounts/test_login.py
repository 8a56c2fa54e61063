"""Sign-in, sign-out, password change, sign-in throttling and the audit of sign-ins."""

from django.urls import reverse

from apps.core.models import AuditEvent

PASSWORD = "a-long-test-password"


def _login(client, username, password=PASSWORD, **extra):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, **extra)


def test_it_signs_in_and_lands_on_the_projects_page(client, make_user):
    make_user("ada")
    response = _login(client, "ada")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_it_shows_a_clear_error_for_a_wrong_password(client, make_user):
    make_user("ada")
    response = _login(client, "ada", "wrong-password")
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(client, make_user):
    client.force_login(make_user("ada"))
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_it_answers_429_after_too_many_failures_for_a_username(client, make_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("ada")
    for _ in range(3):
        assert _login(client, "ada", "wrong-password").status_code == 200
    # Even the right password is refused while the window lasts, from another address too.
    response = _login(client, "ada", REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_answers_429_after_too_many_failures_from_one_address(client, make_user, settings):
    settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_IP_LIMIT = 3, 5
    make_user("ada")
    for name in ["x1", "x2", "x3"]:
        _login(client, name, "wrong-password", REMOTE_ADDR="10.0.0.7")
    # Three failures under different names do not lock out everyone behind that address...
    assert _login(client, "ada", REMOTE_ADDR="10.0.0.7").status_code == 302
    client.post(reverse("accounts:logout"))
    for name in ["x4", "x5"]:
        _login(client, name, "wrong-password", REMOTE_ADDR="10.0.0.7")
    # ...but five do, while other addresses are unaffected.
    assert _login(client, "ada", REMOTE_ADDR="10.0.0.7").status_code == 429
    assert _login(client, "ada", REMOTE_ADDR="10.0.0.8").status_code == 302


def test_a_success_resets_the_username_counter(client, make_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("ada")
    _login(client, "ada", "wrong-password", REMOTE_ADDR="10.0.0.1")
    _login(client, "ada", "wrong-password", REMOTE_ADDR="10.0.0.2")
    assert _login(client, "ada", REMOTE_ADDR="10.0.0.3").status_code == 302
    client.post(reverse("accounts:logout"))
    _login(client, "ada", "wrong-password", REMOTE_ADDR="10.0.0.4")
    assert _login(client, "ada", REMOTE_ADDR="10.0.0.5").status_code == 302


def test_sign_ins_and_failures_are_audited_without_the_password(client, make_user):
    make_user("ada")
    _login(client, "ada", "the-wrong-secret-123")
    _login(client, "ada")
    failed = AuditEvent.objects.get(action="login.failed")
    assert "ada" in failed.summary and failed.ip == "127.0.0.1"
    success = AuditEvent.objects.exclude(action="login.failed").get()
    assert success.actor_name == "ada" and "Signed in" in success.summary
    for event in AuditEvent.objects.all():
        assert "the-wrong-secret-123" not in f"{event.summary} {event.path}"
        assert PASSWORD not in f"{event.summary} {event.path}"


def test_there_is_no_sign_up_page(client, db):
    assert client.get("/accounts/signup/").status_code == 404
    assert "no self sign-up" in client.get(reverse("accounts:login")).content.decode()


def test_password_change_validates_inline_and_then_works(client, make_user):
    client.force_login(make_user("ada"))
    url = reverse("accounts:password-change")
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert "too short" in weak.content.decode()
    response = client.post(url, {"old_password": PASSWORD, "new_password1": "brand-new-passphrase-9",
                                 "new_password2": "brand-new-passphrase-9"}, follow=True)
    assert "Your password was changed." in response.content.decode()
    client.post(reverse("accounts:logout"))
    assert _login(client, "ada", "brand-new-passphrase-9").status_code == 302


def test_profile_lists_projects_and_roles(client, project, member):
    user = member("labeler", "lena")
    client.force_login(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Alpha" in page and "Labeler" in page
