"""A fake OpenID Connect provider on loopback, in a thread of the test process.

It serves a discovery document, a JWKS with one RSA key, an authorize endpoint that approves at
once (redirecting with `code` and `state`), a token endpoint (client secret, redirect URI and
PKCE checked; each code works once) answering an RS256 `id_token` and an access token, and
userinfo; and GitHub's paths too (`/login/oauth/…`, `/api/v3/user`, `/api/v3/user/emails`).
Whoever "signs in" next is `FakeOIDCProvider.user` (tests set it). `id_token(...)` mints tokens
directly, with overridable claims, for the REST ID-token flow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "promptcraft-test"
CLIENT_SECRET = "fake-secret"
KEY_ID = "fake-key-1"


@dataclass
class FakeUser:
    sub: str = "fake-sub-1"
    email: str = "sam@example.com"
    email_verified: bool = True
    name: str = "Sam Social"
    given_name: str = "Sam"
    family_name: str = "Social"
    preferred_username: str = "sam"

    def claims(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class _Grant:
    user: FakeUser
    redirect_uri: str
    code_challenge: str | None
    nonce: str | None


@dataclass
class FakeOIDCProvider:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    user: FakeUser = field(default_factory=FakeUser)
    codes_redeemed: list[str] = field(default_factory=list)
    token_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._grants: dict[str, _Grant] = {}
        self._access: dict[str, FakeUser] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeOIDCProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                provider._get(self)

            def do_POST(self) -> None:
                provider._post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- tokens ------------------------------------------------------------------------------

    def id_token(self, user: FakeUser | None = None, **overrides: Any) -> str:
        """An RS256 ID token for `user` (default: the current one); claims may be overridden or None to drop."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
            **(user or self.user).claims(),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})

    def code_for(self, *, redirect_uri: str, code_challenge: str | None = None) -> str:
        """A code for the current user, as the authorize endpoint would issue it (for REST tests)."""
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = _Grant(self.user, redirect_uri, code_challenge, None)
        return code

    # --- HTTP --------------------------------------------------------------------------------

    def _json(self, handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _jwks(self) -> dict:
        numbers = self._key.public_key().public_numbers()

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {
            "keys": [
                {"kty": "RSA", "kid": KEY_ID, "use": "sig", "alg": "RS256", "n": b64(numbers.n), "e": b64(numbers.e)}
            ]
        }

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            return self._json(
                handler,
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "userinfo_endpoint": f"{self.issuer}/userinfo",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        if url.path == "/jwks":
            return self._json(handler, 200, self._jwks())
        if url.path in ("/authorize", "/login/oauth/authorize"):
            if query.get("client_id") != self.client_id or not query.get("redirect_uri"):
                return self._json(handler, 400, {"error": "invalid_request"})
            code = secrets.token_urlsafe(16)
            with self._lock:
                self._grants[code] = _Grant(
                    self.user, query["redirect_uri"], query.get("code_challenge"), query.get("nonce")
                )
            params = {"code": code, **({"state": query["state"]} if "state" in query else {})}
            handler.send_response(302)
            handler.send_header("Location", f"{query['redirect_uri']}?{urlencode(params)}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        if url.path in ("/userinfo", "/api/v3/user", "/api/v3/user/emails"):
            authorization = handler.headers.get("Authorization", "")
            user = self._access.get(authorization.removeprefix("Bearer ").removeprefix("token "))
            if user is None:
                return self._json(handler, 401, {"error": "invalid_token"})
            if url.path == "/api/v3/user":  # GitHub's shape: no verification flag, a public email or null
                return self._json(
                    handler, 200, {"id": user.sub, "login": user.preferred_username, "name": user.name, "email": None}
                )
            if url.path == "/api/v3/user/emails":
                return self._json(
                    handler, 200, [{"email": user.email, "primary": True, "verified": user.email_verified}]
                )
            return self._json(handler, 200, user.claims())
        return self._json(handler, 404, {"error": "not_found"})

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        if urlsplit(handler.path).path not in ("/token", "/login/oauth/access_token"):
            return self._json(handler, 404, {"error": "not_found"})
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        error = self._token_error(form)
        if error:
            self.token_errors.append(error)
            return self._json(handler, 400, {"error": error})
        with self._lock:
            grant = self._grants.pop(form["code"])
            self.codes_redeemed.append(form["code"])
            access = secrets.token_urlsafe(16)
            self._access[access] = grant.user
        extra = {"nonce": grant.nonce} if grant.nonce else {}
        return self._json(
            handler,
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(grant.user, **extra),
            },
        )

    def _token_error(self, form: dict[str, str]) -> str | None:
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return "invalid_client"
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
        if form.get("grant_type") != "authorization_code" or grant is None:
            return "invalid_grant"  # unknown or already redeemed
        if form.get("redirect_uri") != grant.redirect_uri:
            return "invalid_grant"
        if grant.code_challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant.code_challenge:
                return "invalid_grant"
        return None
