from django.urls import path

from llm.views.models import ModelListView
from llm.views.runs import RunDetailView, RunListCreateView

urlpatterns = [
    path("models/", ModelListView.as_view(), name="llm-models"),
    path("runs/", RunListCreateView.as_view(), name="llm-runs"),
    path("runs/<uuid:run_id>/", RunDetailView.as_view(), name="llm-run-detail"),
]
