"""HTTP endpoints under /api/v1/auth/: parse, call one service, answer."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import avatars, privacy, selectors, services
from accounts.serializers import (
    AccountDeleteSerializer,
    APIKeyCreatedSerializer,
    APIKeySerializer,
    AuthResponseSerializer,
    AvatarSerializer,
    AvatarUploadSerializer,
    DeleteConfirmationSerializer,
    DetailSerializer,
    EmailVerifiedSerializer,
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SocialCredentialSerializer,
    SocialLinkSerializer,
    SocialStatusSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.social import protocol as social_protocol
from accounts.social import services as social_services
from accounts.throttles import (
    AnonRateThrottle,
    AuthAccountThrottle,
    AuthIPThrottle,
    AvatarUploadThrottle,
    EmailVerificationThrottle,
    UserRateThrottle,
)
from accounts.uploads import BoundedUploadHandler
from core.unavailable import ServiceUnavailable

BAD_CREDENTIALS = "No active account found with the given credentials."
BAD_REFRESH = "Token is invalid, expired or already used."
BAD_VERIFICATION_LINK = "This verification link is invalid or has expired."
EMAIL_VERIFIED = "Your email address is verified."

ERRORS_400 = OpenApiResponse(description="Field errors: `{field: [message]}`.")
ERROR_401 = OpenApiResponse(DetailSerializer, description="Not authenticated, or the credentials/token are not valid.")
ERROR_429 = OpenApiResponse(DetailSerializer, description="Too many attempts; see the `Retry-After` header.")


def auth_response(user, pair: services.TokenPair) -> dict:
    return {"user": UserSerializer(user).data, "access": pair.access, "refresh": pair.refresh}


class PublicAuthView(APIView):
    """Endpoints reached without an access token (a stale Authorization header is ignored)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AnonRateThrottle, AuthIPThrottle, AuthAccountThrottle)
    throttle_account_field: str | None = None

    def get_authenticate_header(self, request: Request) -> str:
        # Makes AuthenticationFailed a 401 (DRF answers 403 when no scheme is advertised).
        return 'Bearer realm="api"'


class RegisterView(PublicAuthView):
    throttle_account_field = "email"

    @extend_schema(
        summary="Create an account",
        description=(
            "Registers a learner (100 welcome credits, level 1, 0 XP, rank Prompt Novice) and signs them in. "
            "A verification link goes to the email; until it is followed the credits cannot be spent "
            "(only a few free runs a day on the built-in models)."
        ),
        request=RegisterSerializer,
        responses={201: AuthResponseSerializer, 400: ERRORS_400, 429: ERROR_429},
        examples=[
            OpenApiExample(
                "New learner",
                request_only=True,
                value={
                    "username": "ada",
                    "email": "ada@example.com",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "password": "Analytical-Engine-1843",
                    "password_confirm": "Analytical-Engine-1843",
                },
            ),
            OpenApiExample(
                "Field errors",
                response_only=True,
                status_codes=["400"],
                value={
                    "email": ["A user with that email already exists."],
                    "password_confirm": ["The two passwords do not match."],
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = services.user_register(
                username=data["username"],
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except services.DuplicateAccount as exc:
            raise exceptions.ValidationError({exc.field: [f"A user with that {exc.field} already exists."]}) from None
        return Response(auth_response(user, services.token_pair_issue(user=user)), status=status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_account_field = "username_or_email"

    @extend_schema(
        summary="Sign in",
        description="Signs in with a username or an email. Unknown accounts and wrong passwords get the same 401.",
        request=LoginSerializer,
        responses={200: AuthResponseSerializer, 400: ERRORS_400, 401: ERROR_401, 429: ERROR_429},
        examples=[
            OpenApiExample("By username", request_only=True, value={"username_or_email": "ada", "password": "..."}),
            OpenApiExample(
                "By email", request_only=True, value={"username_or_email": "ada@example.com", "password": "..."}
            ),
            OpenApiExample(
                "Bad credentials",
                response_only=True,
                status_codes=["401"],
                value={"detail": BAD_CREDENTIALS, "code": "invalid_credentials"},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user, pair = services.user_login(**serializer.validated_data)
        except services.InvalidCredentials:
            raise exceptions.AuthenticationFailed(BAD_CREDENTIALS, code="invalid_credentials") from None
        return Response(auth_response(user, pair))


class RefreshView(PublicAuthView):
    throttle_classes = (AnonRateThrottle,)

    @extend_schema(
        summary="Rotate a refresh token",
        description="Returns a new access and refresh token; the refresh token sent is blacklisted, so reuse is a 401.",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer, 400: ERRORS_400, 401: ERROR_401, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            pair = services.token_refresh(refresh=serializer.validated_data["refresh"])
        except services.InvalidRefreshToken:
            raise exceptions.AuthenticationFailed(BAD_REFRESH, code="token_not_valid") from None
        return Response(TokenPairSerializer(pair).data)


class LogoutView(PublicAuthView):
    throttle_classes = (AnonRateThrottle,)

    @extend_schema(
        summary="Sign out",
        description="Blacklists the refresh token sent. Access tokens are short-lived and expire on their own.",
        request=RefreshSerializer,
        responses={
            205: OpenApiResponse(description="Signed out; no body."),
            400: ERRORS_400,
            401: ERROR_401,
            429: ERROR_429,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.token_revoke(refresh=serializer.validated_data["refresh"])
        except services.InvalidRefreshToken:
            raise exceptions.AuthenticationFailed(BAD_REFRESH, code="token_not_valid") from None
        return Response(status=status.HTTP_205_RESET_CONTENT)


class MeView(APIView):
    permission_classes = (IsAuthenticated,)
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_throttles(self):
        # Deleting takes the password: bounded like the other password checks.
        if self.request.method == "DELETE":
            return [UserRateThrottle(), AuthIPThrottle()]
        return super().get_throttles()

    @extend_schema(summary="Your profile", responses={200: UserSerializer, 401: ERROR_401})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Edit your profile",
        description=(
            "Changes email, names, time zone and bio. Progress counters are read-only and ignored if sent. "
            "A new email is unverified until the link sent to it is followed."
        ),
        request=UserSerializer,
        responses={200: UserSerializer, 400: ERRORS_400, 401: ERROR_401},
    )
    def patch(self, request: Request) -> Response:
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.user_profile_update(user=request.user, **serializer.validated_data)
        except services.DuplicateAccount:
            raise exceptions.ValidationError({"email": ["A user with that email already exists."]}) from None
        return Response(UserSerializer(user).data)

    @extend_schema(
        summary="Delete your account",
        description=(
            "Takes your `password`, or for an account without one a `confirmation` from signing in again with a "
            "linked provider (`POST auth/social/{provider}/reauth/`, or the settings page). The account is "
            "deactivated at once: every token, session and personal key stops working and open sockets close "
            "(4401). A worker then erases your personal data: names, email, bio, private templates, the words "
            "of your runs and attempts, linked providers. Public templates and challenges stay under a "
            "'deleted user' owner; your XP and credit ledgers stay, anonymised, so the totals stay true."
        ),
        request=AccountDeleteSerializer,
        responses={204: OpenApiResponse(description="Deleted; no body."), 400: ERRORS_400, 401: ERROR_401},
    )
    def delete(self, request: Request) -> Response:
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            privacy.account_delete(
                user=request.user, password=data.get("password"), confirmation=data.get("confirmation")
            )
        except privacy.DeletionRefused as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportView(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle,)

    @extend_schema(
        summary="Download your data",
        description=(
            "A JSON document (an attachment) of your profile, templates with their versions, ratings and "
            "favourites, runs, challenges and attempts (hidden cases: pass/fail only), XP and credit ledgers, "
            "badges, API keys (metadata, never the key) and linked providers (provider and uid, no tokens)."
        ),
        responses={200: OpenApiResponse(description="The export document."), 401: ERROR_401},
    )
    def get(self, request: Request) -> Response:
        document = privacy.export_document(user=request.user)
        day = document["exported_at"][:10]
        response = Response(document)
        response["Content-Disposition"] = f'attachment; filename="promptcraft-{request.user.username}-{day}.json"'
        return response


AVATAR_STORAGE_DOWN = "Avatars cannot be stored right now; try again shortly."


class AvatarView(APIView):
    permission_classes = (IsAuthenticated,)
    parser_classes = (MultiPartParser,)
    http_method_names = ["put", "delete", "options"]

    def get_throttles(self):
        if self.request.method == "PUT":  # each upload decodes a picture
            return [UserRateThrottle(), AvatarUploadThrottle()]
        return [UserRateThrottle()]

    @extend_schema(
        summary="Set your avatar",
        description=(
            "A multipart upload in the field `avatar`: a PNG, JPEG, WebP or GIF (its first frame) of at most "
            "`AVATAR_MAX_BYTES` bytes and `AVATAR_MAX_PIXELS` pixels, its type read from its bytes. It is turned "
            "upright as its EXIF orientation says, cropped to a centred square, resized and stored as WebP "
            "without any metadata; the previous picture is deleted. The answer is the new picture's URL, which "
            "never changes its content. Anything that is not such a picture: 400 with an `avatar` message."
        ),
        request={"multipart/form-data": AvatarUploadSerializer},
        responses={
            200: AvatarSerializer,
            400: ERRORS_400,
            401: ERROR_401,
            429: ERROR_429,
            503: OpenApiResponse(DetailSerializer, description="The storage cannot take the picture right now."),
        },
        examples=[
            OpenApiExample(
                "Not a picture",
                response_only=True,
                status_codes=["400"],
                value={"avatar": ["Upload a PNG, JPEG, WebP or GIF image."]},
            ),
        ],
    )
    def put(self, request: Request) -> Response:
        # Before the body is parsed: keep only the `avatar` file, and no more of it than can be accepted.
        request._request.upload_handlers = [
            BoundedUploadHandler(request._request, field="avatar", limit=settings.AVATAR_MAX_BYTES)
        ]
        serializer = AvatarUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            url = avatars.avatar_set(user=request.user, upload=serializer.validated_data["avatar"])
        except avatars.AvatarRefused as exc:
            raise exceptions.ValidationError({"avatar": [exc.message]}) from None
        except avatars.AvatarStorageUnavailable:
            raise ServiceUnavailable(AVATAR_STORAGE_DOWN) from None
        return Response({"avatar_url": url})

    @extend_schema(
        summary="Remove your avatar",
        description="Pages then show your initials. Without an avatar this does nothing (204 as well).",
        responses={204: OpenApiResponse(description="Removed; no body."), 401: ERROR_401, 429: ERROR_429},
    )
    def delete(self, request: Request) -> Response:
        avatars.avatar_remove(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyView(PublicAuthView):
    throttle_classes = (AnonRateThrottle, AuthIPThrottle)

    @extend_schema(
        summary="Verify your email address",
        description=(
            "Takes the token of the emailed link. Verifying again with a valid token answers the same; "
            "a link for an address the account no longer has is refused."
        ),
        request=EmailVerifySerializer,
        responses={200: EmailVerifiedSerializer, 400: ERRORS_400, 429: ERROR_429},
        examples=[
            OpenApiExample(
                "Bad or expired link",
                response_only=True,
                status_codes=["400"],
                value={"token": [BAD_VERIFICATION_LINK]},
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = EmailVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.email_verify(token=serializer.validated_data["token"])
        except services.InvalidVerificationLink:
            raise exceptions.ValidationError({"token": [BAD_VERIFICATION_LINK]}) from None
        return Response({"detail": EMAIL_VERIFIED, "email_verified": True})


class EmailVerifyResendView(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle, EmailVerificationThrottle)

    @extend_schema(
        summary="Send a new verification link",
        description="Emails a new link to your current address (202), or answers 200 if it is verified already.",
        request=None,
        responses={
            200: EmailVerifiedSerializer,
            202: EmailVerifiedSerializer,
            401: ERROR_401,
            429: ERROR_429,
        },
    )
    def post(self, request: Request) -> Response:
        if not services.email_verification_resend(user=request.user):
            return Response({"detail": EMAIL_VERIFIED, "email_verified": True})
        return Response(
            {"detail": f"A new verification link is on its way to {request.user.email}.", "email_verified": False},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordChangeView(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle, AuthIPThrottle)

    @extend_schema(
        summary="Change your password",
        description="Signs out every session (all refresh and access tokens) and returns a new pair for this one.",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, 400: ERRORS_400, 401: ERROR_401, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        pair = services.user_password_change(user=request.user, new_password=serializer.validated_data["new_password"])
        return Response(TokenPairSerializer(pair).data)


class PasswordResetView(PublicAuthView):
    throttle_account_field = "email"

    @extend_schema(
        summary="Ask for a password reset email",
        description=(
            "Emails a one-time reset link if an active account has this email; the answer is the same either way."
        ),
        request=PasswordResetRequestSerializer,
        responses={202: DetailSerializer, 400: ERRORS_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": "If an account uses this email, a reset link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class PasswordResetConfirmView(PublicAuthView):
    throttle_classes = (AnonRateThrottle, AuthIPThrottle)

    @extend_schema(
        summary="Set a new password from a reset link",
        description="The link works once; every session of the account is signed out.",
        request=PasswordResetConfirmSerializer,
        responses={200: DetailSerializer, 400: ERRORS_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.password_reset_confirm(uid=data["uid"], token=data["token"], new_password=data["new_password"])
        except services.InvalidResetLink:
            raise exceptions.ValidationError({"token": ["This reset link is invalid or has expired."]}) from None
        return Response({"detail": "Your password has been reset. Sign in with the new one."})


class APIKeyListCreateView(generics.ListAPIView):
    """Your personal API keys: create one (the key is in that answer only), list them by prefix."""

    permission_classes = (IsAuthenticated,)
    serializer_class = APIKeySerializer

    def get_queryset(self):
        return selectors.api_keys_live(user_id=self.request.user.pk)

    @extend_schema(
        summary="Your personal API keys",
        description="Keys not revoked, newest first, each named by its prefix; the key itself is never listed.",
        responses={200: APIKeySerializer(many=True), 401: ERROR_401},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a personal API key",
        description=(
            "A key for `Authorization: Bearer <key>` on the REST API and the OpenAI-compatible endpoint "
            "(`/v1/chat/completions`). The key is in this answer only: store it now. Optional `expires_at`."
        ),
        request=APIKeySerializer,
        responses={201: APIKeyCreatedSerializer, 400: ERRORS_400, 401: ERROR_401},
        examples=[
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": "5b1f0c1e-8d57-4a5e-9f2b-3f3c2a1d9e10",
                    "name": "laptop",
                    "prefix": "pc_Xq3v9LmT",
                    "key": "pc_Xq3v9LmT…",
                    "created_at": "2026-12-01T09:30:00Z",
                    "expires_at": None,
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = APIKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            created = services.api_key_create(user=request.user, name=data["name"], expires_at=data.get("expires_at"))
        except services.APIKeyRefused as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
        body = dict(APIKeySerializer(created.api_key).data)
        body["key"] = created.key
        return Response(body, status=status.HTTP_201_CREATED)


class APIKeyDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        summary="Revoke a personal API key",
        description="The key stops working at once (401 everywhere). Another user's key, or a revoked one: 404.",
        responses={204: OpenApiResponse(description="Revoked; no body."), 401: ERROR_401, 404: DetailSerializer},
    )
    def delete(self, request: Request, key_id) -> Response:
        if not services.api_key_revoke(user=request.user, key_id=key_id):
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Social sign-in ---------------------------------------------------------------------------

SOCIAL_ERRORS = {400: ERRORS_400, 404: OpenApiResponse(DetailSerializer, description="No such provider.")}


def _social_identity(request: Request, provider: str) -> social_protocol.ProviderIdentity:
    """The identity the request's code or ID token proves at `provider` (400/404 otherwise)."""
    serializer = SocialCredentialSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        if data.get("id_token"):
            return social_protocol.identity_from_id_token(
                request=request._request, provider_id=provider, id_token=data["id_token"]
            )
        return social_protocol.identity_from_code(
            request=request._request,
            provider_id=provider,
            code=data["code"],
            redirect_uri=data["redirect_uri"],
            code_verifier=data.get("code_verifier"),
        )
    except social_protocol.UnknownProvider:
        raise exceptions.NotFound("No such sign-in provider.") from None
    except social_protocol.ProviderRefused as exc:
        raise exceptions.ValidationError({"detail": exc.message, "code": exc.code}) from None


def _social_refused(exc: social_services.SocialRefused) -> exceptions.APIException:
    return exceptions.ValidationError({"detail": exc.message, "code": exc.code})


class SocialLoginView(PublicAuthView):
    @extend_schema(
        summary="Sign in or sign up with a provider",
        description=(
            "Exchanges a provider's authorization code (`code`, `redirect_uri`, optional PKCE `code_verifier`) or "
            "an OpenID Connect `id_token` for the usual `{user, access, refresh}`: 200 for a linked account, 201 "
            "for a new one (onboarded like a registration; verified at once when the provider verified the "
            "email). An email that belongs to an existing account is never linked here (400 `account_exists`): "
            "sign in and link the provider from the profile."
        ),
        request=SocialCredentialSerializer,
        responses={200: AuthResponseSerializer, 201: AuthResponseSerializer, **SOCIAL_ERRORS, 429: ERROR_429},
    )
    def post(self, request: Request, provider: str) -> Response:
        identity = _social_identity(request, provider)
        try:
            user, pair, created = social_services.social_sign_in(identity=identity)
        except social_services.SocialRefused as exc:
            raise _social_refused(exc) from None
        return Response(auth_response(user, pair), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SocialLinkView(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle,)

    @extend_schema(
        summary="Link a provider to your account",
        description="The same credentials as sign-in; the provider identity then signs into this account.",
        request=SocialCredentialSerializer,
        responses={201: SocialLinkSerializer, **SOCIAL_ERRORS},
    )
    def post(self, request: Request, provider: str) -> Response:
        identity = _social_identity(request, provider)
        try:
            link = social_services.social_link(user=request.user, identity=identity)
        except social_services.SocialRefused as exc:
            raise _social_refused(exc) from None
        return Response(SocialLinkSerializer(link).data, status=status.HTTP_201_CREATED)


class SocialReauthView(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (UserRateThrottle,)

    @extend_schema(
        summary="Confirm your identity with a linked provider",
        description=(
            "The same credentials as sign-in, for a provider linked to your account; answers a `confirmation` "
            "that `DELETE auth/me/` accepts instead of a password for a few minutes."
        ),
        request=SocialCredentialSerializer,
        responses={200: DeleteConfirmationSerializer, **SOCIAL_ERRORS},
    )
    def post(self, request: Request, provider: str) -> Response:
        identity = _social_identity(request, provider)
        if not any(
            link.provider == identity.provider and link.uid == identity.uid
            for link in selectors.social_links(user=request.user)
        ):
            raise exceptions.ValidationError(
                {"detail": "This provider account is not linked to yours.", "code": "not_linked"}
            )
        token = privacy.confirmation_make(user=request.user, provider=identity.provider, uid=identity.uid)
        return Response({"confirmation": token, "expires_in": settings.ACCOUNT_DELETE_REAUTH_SECONDS})


class SocialStatusView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(summary="Sign-in providers: those configured and yours", responses={200: SocialStatusSerializer})
    def get(self, request: Request) -> Response:
        body = {
            "providers": social_protocol.providers_configured(request._request),
            "links": selectors.social_links(user=request.user),
            "has_password": request.user.has_usable_password(),
        }
        return Response(SocialStatusSerializer(body).data)


class SocialUnlinkView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(summary="Unlink a provider", responses={204: None, 400: ERRORS_400})
    def delete(self, request: Request, link_id: int) -> Response:
        try:
            removed = social_services.social_unlink(user=request.user, link_id=link_id)
        except social_services.SocialRefused as exc:
            raise _social_refused(exc) from None
        if not removed:
            raise exceptions.NotFound("No such linked provider.")
        return Response(status=status.HTTP_204_NO_CONTENT)
