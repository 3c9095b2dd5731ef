"""Fixtures of the templates tests: users with API clients, a category, templates made through the service."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from prompts import services
from prompts.models import Category


@pytest.fixture
def client_for():
    """An API client authenticated as `user` with a bearer token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    return make


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def bob_client(client_for, bob):
    return client_for(bob)


@pytest.fixture
def category(db):
    return Category.objects.create(slug="reasoning", name="Reasoning", description="Think step by step.", ordering=1)


@pytest.fixture
def make_template(db):
    """Create a template through the service; public unless told otherwise."""

    def make(owner, **fields):
        values = {
            "title": "Summarise for an audience",
            "content": "Summarise {{ text }} for {{ audience }}.",
            "visibility": "public",
        }
        values.update(fields)
        return services.template_create(owner=owner, **values)

    return make
