from django.urls import path

from insights import views

urlpatterns = [
    path("me/", views.MyInsightsView.as_view(), name="insights-me"),
    path("templates/<str:template_id>/", views.TemplateInsightsView.as_view(), name="insights-template"),
    path("challenges/<slug:slug>/", views.ChallengeInsightsView.as_view(), name="insights-challenge"),
    path("platform/", views.PlatformInsightsView.as_view(), name="insights-platform"),
]
