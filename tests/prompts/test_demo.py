import pytest

from prompts import demo, variables
from prompts.models import Category, Favorite, PromptTemplate, Rating, TemplateVersion

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent_and_shows_up_in_the_public_list(make_user, client_for):
    staff = make_user("coach", is_staff=True)
    learners = [make_user("learner_a"), make_user("learner_b")]

    first = demo.load(author=staff, learners=learners)
    second = demo.load(author=staff, learners=learners)

    assert first == {"categories": 7, "templates": 12, "templates_created": 12}
    assert second == {"categories": 7, "templates": 12, "templates_created": 0}
    assert Category.objects.count() == 7
    assert PromptTemplate.objects.filter(owner=staff, visibility="public").count() == 12
    assert TemplateVersion.objects.count() == 12
    assert (Rating.objects.count(), Favorite.objects.count()) == (6, 3)
    listed = client_for(learners[0]).get("/api/v1/templates/", {"search": "JSON"}).json()
    assert listed["results"][0]["title"] == "Structured JSON extractor"
    assert listed["results"][0]["rating_avg"] == 5.0


def test_every_demo_template_renders_with_its_defaults_and_sample_values():
    for spec in demo.TEMPLATES:
        names = variables.parse_variables(spec["content"])
        specs = variables.normalize_specs(names, spec.get("variable_specs"))
        values = {
            name: (s["choices"][0] if s["type"] == "enum" else 3 if s["type"] == "number" else "sample")
            for name, s in ((n, variables.effective_spec(n, specs)) for n in names)
        }

        prompt = variables.render(spec["content"], values, specs)

        assert "{{" not in prompt, spec["title"]


def test_demo_load_uses_the_accounts_demo_users_by_default():
    from accounts import demo as accounts_demo

    accounts_demo.load()

    result = demo.load()

    assert result == {"categories": 7, "templates": 12, "templates_created": 12}
    assert set(PromptTemplate.objects.values_list("owner__username", flat=True)) == {"admin"}
    assert sorted(Rating.objects.values_list("user__username", flat=True)) == [
        "ada",
        "ada",
        "ada",
        "grace",
        "grace",
        "grace",
    ]


def test_demo_load_without_a_staff_user_says_what_is_missing():
    with pytest.raises(RuntimeError) as excinfo:
        demo.load()

    assert str(excinfo.value) == "The template demo needs a staff user: load the accounts demo data first."
