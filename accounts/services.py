"""Account writes: registration and profile changes."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.module_loading import import_string

User = get_user_model()


@transaction.atomic
def user_register(*, username: str, email: str, password: str, first_name: str = "", last_name: str = "", **extra):
    """Create a user (inputs already validated) and onboard them into the game in one transaction."""
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, **extra)
    user.set_password(password)
    user.save()
    import_string(settings.ACCOUNTS_ON_REGISTER)(user=user)
    return user
