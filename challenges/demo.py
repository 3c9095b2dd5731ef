"""The built-in curriculum for `manage.py load_demo_data`: every `curriculum/*.json`, upserted by slug."""

import json
from pathlib import Path

from django.db import transaction

from challenges import services

CURRICULUM_DIR = Path(__file__).resolve().parent / "curriculum"


def curriculum_documents() -> list[tuple[str, dict]]:
    """(file name, document) of every built-in challenge, in file-name order."""
    return [(path.name, json.loads(path.read_text())) for path in sorted(CURRICULUM_DIR.glob("*.json"))]


@transaction.atomic
def load() -> dict[str, int]:
    """Create the built-in challenges that are missing and update the changed ones (a new version each)."""
    created = 0
    documents = curriculum_documents()
    for _, document in documents:
        _, new = services.challenge_builtin_upsert(document=document)
        created += new
    return {"challenges": len(documents), "challenges_created": created}
