"""The notifications suite's real SMTP server (aiosmtpd on loopback), for the e-mail tests."""

from tests.notifications.conftest import smtp  # noqa: F401
