import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_shows_the_role_and_navigation(page, sign_in, roles):
    user = UserFactory(username="phil", first_name="Phil", last_name="Harmer", roles=["pharmacist"])
    sign_in(user)
    assert "Phil Harmer · Pharmacist" in page.inner_text("header.top .who")
    assert page.locator("header.top nav a", has_text="Admin").count() == 1


def test_wrong_password_keeps_the_username_and_says_why(page, roles):
    UserFactory(username="nina", roles=["nurse"])
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "nina")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "correct username and password" in page.inner_text(".errorlist")
    assert page.input_value("#id_username") == "nina"


def test_nurse_sees_no_admin_link(page, sign_in, roles):
    sign_in(UserFactory(username="nora", roles=["nurse"]))
    assert page.locator("header.top nav a", has_text="Admin").count() == 0
