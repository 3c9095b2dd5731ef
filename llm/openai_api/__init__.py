"""PromptCraft as an OpenAI-compatible endpoint: `GET /v1/models` and `POST /v1/chat/completions`.

OpenAI's wire format over the project's own runs: a completion is a run like any other (credits
reserved and settled, the `ai_requests` and concurrency limits, the run history, XP). Callers
authenticate with a personal API key (`accounts.authentication`) or an access JWT.

    errors.py      OpenAI's error object and the views' exception handler
    messages.py    chat messages → the run's prompt and system text
    parsing.py     the request body, validated into a `ChatRequest`
    formatting.py  model objects, `chat.completion` and `chat.completion.chunk` bodies
    views.py, urls.py
"""
