from django.urls import path

from game import views

app_name = "game"

urlpatterns = [
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("badges/", views.BadgeListView.as_view(), name="badges"),
    path("leaderboard/", views.LeaderboardView.as_view(), name="leaderboard"),
    path("xp-events/", views.XPEventListView.as_view(), name="xp-events"),
    path("credits/", views.CreditEntryListView.as_view(), name="credits"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/unread-count/", views.NotificationUnreadCountView.as_view(), name="notifications-unread"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notifications-read"),
    path("awards/", views.AwardCreateView.as_view(), name="awards"),
]
