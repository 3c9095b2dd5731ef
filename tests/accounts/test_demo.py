from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts import demo

User = get_user_model()


@pytest.mark.django_db
def test_demo_accounts_are_a_staff_user_and_three_learners_with_welcome_credits():
    created = demo.load()

    assert created == [
        "staff admin / promptcraft-demo",
        "learner ada / promptcraft-demo",
        "learner grace / promptcraft-demo",
        "learner alan / promptcraft-demo",
    ]
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser, admin.check_password("promptcraft-demo")) == (True, True, True)
    assert sorted(User.objects.filter(is_staff=False).values_list("username", "credits")) == [
        ("ada", 100),
        ("alan", 100),
        ("grace", 100),
    ]


@pytest.mark.django_db
def test_loading_again_creates_nothing():
    demo.load()

    assert demo.load() == []
    assert User.objects.count() == 4


@pytest.mark.django_db
def test_command_is_idempotent():
    out = StringIO()

    call_command("load_demo_data", "--force", stdout=out)
    call_command("load_demo_data", "--force", stdout=out)

    assert out.getvalue().count("accounts: staff admin / promptcraft-demo") == 1
    assert out.getvalue().count("Demo data ready.") == 2
    assert User.objects.filter(username__in=["admin", "ada", "grace", "alan"]).count() == 4


@pytest.mark.django_db
def test_command_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="well-known passwords"):
        call_command("load_demo_data", stdout=StringIO())
    assert not User.objects.exists()
