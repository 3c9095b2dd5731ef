from django.urls import path

from accounts import views

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="auth-register"),
    path("login/", views.LoginView.as_view(), name="auth-login"),
    path("refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("me/", views.MeView.as_view(), name="auth-me"),
    path("me/export/", views.MeExportView.as_view(), name="auth-me-export"),
    path("me/avatar/", views.AvatarView.as_view(), name="auth-me-avatar"),
    path("email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("email/verify/resend/", views.EmailVerifyResendView.as_view(), name="auth-email-verify-resend"),
    path("password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("api-keys/", views.APIKeyListCreateView.as_view(), name="auth-api-keys"),
    path("api-keys/<uuid:key_id>/", views.APIKeyDetailView.as_view(), name="auth-api-key-detail"),
    path("social/", views.SocialStatusView.as_view(), name="auth-social"),
    path("social/links/<int:link_id>/", views.SocialUnlinkView.as_view(), name="auth-social-unlink"),
    path("social/<slug:provider>/", views.SocialLoginView.as_view(), name="auth-social-login"),
    path("social/<slug:provider>/link/", views.SocialLinkView.as_view(), name="auth-social-link"),
    path("social/<slug:provider>/reauth/", views.SocialReauthView.as_view(), name="auth-social-reauth"),
]
