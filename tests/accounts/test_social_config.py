"""Sign-in providers from the environment (config/social.py)."""

import pytest

from config.social import social_providers_from_env


def test_no_variable_no_provider(monkeypatch):
    for name in ("SOCIAL_GITHUB_CLIENT_ID", "SOCIAL_GOOGLE_CLIENT_ID", "SOCIAL_OIDC_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)

    assert social_providers_from_env() == {}


def test_github_google_and_two_oidc_providers(monkeypatch):
    env = {
        "SOCIAL_GITHUB_CLIENT_ID": "gh-id",
        "SOCIAL_GITHUB_SECRET": "gh-secret",
        "SOCIAL_GOOGLE_CLIENT_ID": "g-id",
        "SOCIAL_GOOGLE_SECRET": "g-secret",
        "SOCIAL_OIDC_PROVIDERS": "acme, corp-sso",
        "SOCIAL_OIDC_ACME_NAME": "Acme",
        "SOCIAL_OIDC_ACME_CLIENT_ID": "acme-id",
        "SOCIAL_OIDC_ACME_SECRET": "acme-secret",
        "SOCIAL_OIDC_ACME_ISSUER": "https://id.acme.example/",
        "SOCIAL_OIDC_CORP_SSO_CLIENT_ID": "corp-id",
        "SOCIAL_OIDC_CORP_SSO_ISSUER": "https://sso.corp.example",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    providers = social_providers_from_env()

    assert providers["github"]["APPS"] == [{"client_id": "gh-id", "secret": "gh-secret"}]
    assert providers["google"]["APPS"] == [{"client_id": "g-id", "secret": "g-secret"}]
    acme, corp = providers["openid_connect"]["APPS"]
    assert (acme["provider_id"], acme["name"], acme["client_id"], acme["secret"]) == (
        "acme",
        "Acme",
        "acme-id",
        "acme-secret",
    )
    assert acme["settings"]["server_url"] == "https://id.acme.example"
    assert (corp["provider_id"], corp["name"], corp["secret"]) == ("corp-sso", "corp-sso", "")


@pytest.mark.parametrize(
    "env",
    [
        {
            "SOCIAL_OIDC_PROVIDERS": "github",
            "SOCIAL_OIDC_GITHUB_CLIENT_ID": "x",
            "SOCIAL_OIDC_GITHUB_ISSUER": "https://x",
        },
        {"SOCIAL_OIDC_PROVIDERS": "no/slash"},
        {"SOCIAL_OIDC_PROVIDERS": "acme", "SOCIAL_OIDC_ACME_CLIENT_ID": "x"},
    ],
    ids=["shadows-github", "bad-id", "no-issuer"],
)
def test_a_misconfigured_oidc_provider_stops_the_start(monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValueError):
        social_providers_from_env()
