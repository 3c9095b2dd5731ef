from django.urls import path

from web import session_views, social_views, views

app_name = "web"

urlpatterns = [
    path("", views.page("playground"), name="playground"),
    path("login/", views.page("login"), name="login"),
    path("signup/", views.page("signup"), name="signup"),
    path("forgot-password/", views.page("forgot_password"), name="forgot_password"),
    # The path of the link in password-reset emails (FRONTEND_URL/reset-password/?uid=…&token=…).
    path("reset-password/", views.page("reset_password"), name="reset_password"),
    # The path of the link in verification emails (FRONTEND_URL/verify-email/?token=…).
    path("verify-email/", views.verify_email_page, name="verify_email"),
    path("library/", views.page("library"), name="library"),
    path("library/new/", views.page("template_new"), name="template_new"),
    path("library/<uuid:template_id>/", views.page("template_detail"), name="template_detail"),
    path("library/<uuid:template_id>/edit/", views.page("template_edit"), name="template_edit"),
    path("profile/", views.page("profile"), name="profile"),
    path("runs/", views.page("runs"), name="runs"),
    path("runs/compare/", views.page("run_compare"), name="run_compare"),
    path("runs/<uuid:run_id>/", views.page("run_detail"), name="run_detail"),
    path("notifications/", views.page("notifications"), name="notifications"),
    path("settings/", views.page("settings"), name="settings"),
    path("leaderboard/", views.page("leaderboard"), name="leaderboard"),
    path("staff/insights/", views.page("staff_insights"), name="staff_insights"),
    path("challenges/", views.challenge_list_page, name="challenges"),
    path("challenges/<slug:slug>/", views.challenge_detail_page, name="challenge"),
    path("challenges/<slug:slug>/body/", views.challenge_body, name="challenge_body"),
    path("widgets/leaderboard/", views.leaderboard_widget_frame, name="leaderboard_widget"),
    path("session/", session_views.session_open, name="session_open"),
    path("session/token/", session_views.session_token, name="session_token"),
    path("session/logout/", session_views.session_end, name="session_end"),
    path("social/<slug:provider>/login/", social_views.social_login_start, name="social_login"),
    path("social/<slug:provider>/link/", social_views.social_link_start, name="social_link"),
    path("social/<slug:provider>/reauth/", social_views.social_reauth_start, name="social_reauth"),
    path("social/<slug:provider>/callback/", social_views.social_callback, name="social_callback"),
]
