"""The built-in curriculum: every file loads, loading again changes nothing, a changed file is a new version."""

import copy

import pytest

from challenges import demo, services
from challenges.documents import ChallengeDocumentSerializer
from challenges.models import Challenge

pytestmark = [pytest.mark.django_db]

FILES = demo.curriculum_documents()


@pytest.mark.parametrize(("name", "document"), FILES, ids=[name for name, _ in FILES])
def test_every_curriculum_file_is_a_valid_challenge_with_public_and_hidden_cases(name, document):
    checked = ChallengeDocumentSerializer(data=document)

    assert checked.is_valid(), checked.errors
    hidden = [case for case in document["cases"] if case.get("hidden")]
    assert len(document["cases"]) - len(hidden) >= 3 and len(hidden) >= 2
    assert document.get("reference_prompt") and document.get("naive_prompt")


def test_loading_creates_public_builtins_once():
    first = demo.load()
    second = demo.load()

    assert first == {"challenges": len(FILES), "challenges_created": len(FILES)}
    assert second == {"challenges": len(FILES), "challenges_created": 0}
    builtins = Challenge.objects.filter(builtin=True)
    assert builtins.count() == len(FILES)
    assert {(c.visibility, c.author_id, c.version) for c in builtins} == {("public", None, 1)}


def test_a_changed_curriculum_file_updates_its_challenge_as_a_new_version():
    demo.load()
    _, document = FILES[0]
    changed = copy.deepcopy(document)
    changed["par_tokens"] += 1
    changed["title"] = "Renamed"

    challenge, created = services.challenge_builtin_upsert(document=changed)

    assert not created
    assert (challenge.version, challenge.title, challenge.par_tokens) == (2, "Renamed", document["par_tokens"] + 1)
    assert [case["id"] for case in challenge.cases] == [case["id"] for case in document["cases"]]
