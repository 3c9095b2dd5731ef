"""The built-in model catalogue: the models a fresh install offers, as registry entries.

`settings.LLM_MODELS` (the `LLM_MODELS_JSON` environment variable) replaces this list whole;
`llm.registry` validates whichever list is in force. Prices are credits per 1,000 tokens; a run
that produces anything costs at least 1 credit, so even the local models exercise the economy.
The first entry is the default chat model, the one `settings.LLM_DEFAULT_MODEL` names.
"""

from typing import Any


def builtin_models(*, local_context: int) -> list[dict[str, Any]]:
    """The built-in entries; the local models' context is the one llama.cpp loads them with."""
    return [
        {
            "id": "local:smollm2-135m-instruct",
            "display_name": "SmolLM2 135M Instruct (local)",
            "description": "A small local chat (instruct) model running on this server: fast, offline, "
            "and follows short, clear instructions; give it a system prompt and examples for anything harder.",
            "context_limit": local_context,
            "max_output_tokens": 512,
            # As with Gemma: a model this small answers more reliably when it samples cool.
            "default_params": {"temperature": 0.3, "max_tokens": 128},
            "credits_per_1k_input": 0.2,
            "credits_per_1k_output": 0.5,
        },
        {
            "id": "local:gemma-3-270m",
            "display_name": "Gemma 3 270M (local)",
            "description": "A small local completion (base) model running on this server: fast, offline, "
            "and best at continuing text rather than following instructions.",
            "context_limit": local_context,
            "max_output_tokens": 512,
            # Cooler than the hosted models: this small base model answers simple questions
            # wrongly at 0.7 that it answers rightly at 0.3.
            "default_params": {"temperature": 0.3, "max_tokens": 128},
            "credits_per_1k_input": 0.2,
            "credits_per_1k_output": 0.5,
        },
        {
            "id": "openai:gpt-4o-mini",
            "display_name": "GPT-4o mini",
            "description": "OpenAI's small, fast chat model.",
            "context_limit": 128000,
            "max_output_tokens": 4096,
            "default_params": {"temperature": 0.7, "max_tokens": 512},
            "credits_per_1k_input": 1,
            "credits_per_1k_output": 4,
        },
        {
            "id": "openai:gpt-4o",
            "display_name": "GPT-4o",
            "description": "OpenAI's flagship multimodal chat model.",
            "context_limit": 128000,
            "max_output_tokens": 4096,
            "default_params": {"temperature": 0.7, "max_tokens": 512},
            "credits_per_1k_input": 5,
            "credits_per_1k_output": 20,
        },
        {
            "id": "anthropic:claude-haiku-4-5",
            "display_name": "Claude Haiku 4.5",
            "description": "Anthropic's fastest model.",
            "context_limit": 200000,
            "max_output_tokens": 4096,
            "default_params": {"temperature": 0.7, "max_tokens": 512},
            "credits_per_1k_input": 2,
            "credits_per_1k_output": 10,
        },
        {
            "id": "anthropic:claude-sonnet-4-5",
            "display_name": "Claude Sonnet 4.5",
            "description": "Anthropic's balanced model for reasoning and writing.",
            "context_limit": 200000,
            "max_output_tokens": 4096,
            "default_params": {"temperature": 0.7, "max_tokens": 512},
            "credits_per_1k_input": 6,
            "credits_per_1k_output": 30,
        },
    ]
