"""An email backend whose mail server always fails (EMAIL_BACKEND in tests that need one)."""

from smtplib import SMTPServerDisconnected

from django.core.mail.backends.base import BaseEmailBackend


class FailingEmailBackend(BaseEmailBackend):
    attempts = 0  # send attempts since the test reset it

    def send_messages(self, email_messages) -> int:
        type(self).attempts += 1
        raise SMTPServerDisconnected("Connection unexpectedly closed")
