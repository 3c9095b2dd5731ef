from django.urls import path

from llm.views.connections import (
    ConnectionDetailView,
    ConnectionDiscoverView,
    ConnectionListCreateView,
    ConnectionModelDetailView,
    ConnectionModelListView,
    ProviderKeyDetailView,
    ProviderKeyListCreateView,
)
from llm.views.models import ModelListView
from llm.views.runs import RunDetailView, RunListCreateView

urlpatterns = [
    path("models/", ModelListView.as_view(), name="llm-models"),
    path("runs/", RunListCreateView.as_view(), name="llm-runs"),
    path("runs/<uuid:run_id>/", RunDetailView.as_view(), name="llm-run-detail"),
    path("connections/", ConnectionListCreateView.as_view(), name="llm-connections"),
    path("connections/<slug:name>/", ConnectionDetailView.as_view(), name="llm-connection-detail"),
    path("connections/<slug:name>/discover/", ConnectionDiscoverView.as_view(), name="llm-connection-discover"),
    path("connections/<slug:name>/models/", ConnectionModelListView.as_view(), name="llm-connection-models"),
    path(
        "connections/<slug:name>/models/<path:model_name>/",
        ConnectionModelDetailView.as_view(),
        name="llm-connection-model-detail",
    ),
    path("my-keys/", ProviderKeyListCreateView.as_view(), name="llm-my-keys"),
    path("my-keys/<uuid:key_id>/", ProviderKeyDetailView.as_view(), name="llm-my-key-detail"),
]
