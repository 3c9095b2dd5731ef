"""Demo accounts for `manage.py load_demo_data`: a staff user and a few learners (idempotent)."""

from django.contrib.auth import get_user_model

from accounts import services

User = get_user_model()

DEMO_PASSWORD = "promptcraft-demo"
STAFF = {"username": "admin", "email": "admin@promptcraft.local", "first_name": "Site", "last_name": "Admin"}
LEARNERS = [
    {"username": "ada", "email": "ada@promptcraft.local", "first_name": "Ada", "last_name": "Lovelace"},
    {"username": "grace", "email": "grace@promptcraft.local", "first_name": "Grace", "last_name": "Hopper"},
    {"username": "alan", "email": "alan@promptcraft.local", "first_name": "Alan", "last_name": "Turing"},
]


def load() -> list[str]:
    """Create the demo accounts that do not exist yet; returns one line per account created."""
    created = []
    for fields, privileges in [(STAFF, {"is_staff": True, "is_superuser": True}), *((f, {}) for f in LEARNERS)]:
        if User.objects.filter(username__iexact=fields["username"]).exists():
            continue
        # Their addresses are made up: verified, so the demo can spend its credits at once.
        services.user_register(password=DEMO_PASSWORD, email_verified=True, **fields, **privileges)
        role = "staff" if privileges else "learner"
        created.append(f"{role} {fields['username']} / {DEMO_PASSWORD}")
    return created
