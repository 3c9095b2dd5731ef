from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from config.media import media_urlpatterns

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("", include("prompts.urls")),
    path("llm/", include("llm.urls")),
    path("", include("challenges.urls")),
    path("game/", include("game.urls")),
    path("insights/", include("insights.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # OpenAI's paths, so OpenAI clients work with only their base URL changed (`<site>/v1`).
    path("v1/", include("llm.openai_api.urls")),
    *media_urlpatterns(),
    path("", include("web.urls")),
]

# JSON error bodies for API clients when no view handled the request.
handler404 = "config.exceptions.page_not_found"
handler500 = "config.exceptions.server_error"
