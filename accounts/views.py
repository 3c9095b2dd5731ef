"""HTTP endpoints under /api/v1/auth/: parse, call one service, answer."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    AuthResponseSerializer,
    DetailSerializer,
    EmailVerifiedSerializer,
    EmailVerifySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.throttles import (
    AnonRateThrottle,
    AuthAccountThrottle,
    AuthIPThrottle,
    EmailVerificationThrottle,
    UserRateThrottle,
)

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
    http_method_names = ["get", "patch", "head", "options"]

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
