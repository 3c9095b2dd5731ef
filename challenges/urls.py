from django.urls import path
from rest_framework.routers import SimpleRouter

from challenges.views import AttemptDetailView, ChallengeViewSet

router = SimpleRouter()
router.register("challenges", ChallengeViewSet, basename="challenge")

urlpatterns = [
    *router.urls,
    path("attempts/<str:attempt_id>/", AttemptDetailView.as_view(), name="attempt-detail"),
]
