"""`/v1/`, OpenAI's paths (wired in config.urls next to `/api/v1/`)."""

from django.urls import path

from llm.openai_api.views import ChatCompletionsView, ModelDetailView, ModelListView

urlpatterns = [
    path("models", ModelListView.as_view(), name="openai-models"),
    path("models/<path:model>", ModelDetailView.as_view(), name="openai-model"),
    path("chat/completions", ChatCompletionsView.as_view(), name="openai-chat-completions"),
]
