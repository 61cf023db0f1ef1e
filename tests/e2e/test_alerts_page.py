import pytest

from notifications.models import NotificationStatus
from tests.factories import UserFactory
from tests.notifications.conftest import enqueue_failed

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pharmacist_resends_a_failed_alert_from_the_alerts_page(page, sign_in, roles):
    notification = enqueue_failed(subject="Ward 3A digest that bounced")
    sign_in(UserFactory(username="pia", roles=["pharmacist"]))
    page.click("header.top nav a:has-text('Alerts')")
    page.select_option("#f-status", "failed")
    page.click("form[aria-label=Filters] button[type=submit]")
    row = page.locator(f"#notification-{notification.pk}")
    assert "550 5.1.1 No such user here" in row.inner_text()
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Re-send").click()
    page.wait_for_selector(".msg.success")
    assert messages == ["Re-send “Ward 3A digest that bounced” to 2 recipients?"]
    assert "status=failed" in page.url  # back to the filtered list
    assert page.locator(f"#notification-{notification.pk}").count() == 0  # no longer failed
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING


def test_a_viewer_sees_the_log_without_resend_buttons(page, sign_in, roles):
    notification = enqueue_failed()
    sign_in(UserFactory(username="vic", roles=["viewer"]))
    page.goto(page.base_url + "/alerts/")
    assert "550 5.1.1 No such user here" in page.inner_text(f"#notification-{notification.pk}")
    assert page.get_by_role("button", name="Re-send").count() == 0
