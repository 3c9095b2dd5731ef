"""ASGI entry point: HTTP through Django, WebSockets through the apps' routers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
# Must run before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

import challenges.routing  # noqa: E402
import game.routing  # noqa: E402
from config.gc_tuning import gc_tune  # noqa: E402
from llm.openai_api.deferred_status import deferred_status_app  # noqa: E402
from llm.registry import providers_preload  # noqa: E402

websocket_urlpatterns = [
    *game.routing.websocket_urlpatterns,
    # /ws/playground/: llm's runs and the challenges' graded attempts on one socket.
    *challenges.routing.websocket_urlpatterns,
]

application = ProtocolTypeRouter(
    {
        # /v1/chat/completions sends its status once the run has ended (llm.openai_api).
        "http": deferred_status_app(django_asgi_app),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)

if settings.LLM_PRELOAD_PROVIDERS:
    providers_preload()  # not on the first run's way: importing an SDK stalls every socket meanwhile

gc_tune()  # last: everything above lives as long as the server process
