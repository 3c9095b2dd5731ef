"""Prompt tokens: one deterministic tokenizer (the Gemma 3 vocabulary) for every model."""

from challenges.tokens import count_tokens, prompt_tokens


def test_counts_are_deterministic_and_count_placeholders_as_written():
    text = "Classify the sentiment of {{review}} as positive or negative."

    assert count_tokens(text) == count_tokens(text)
    assert count_tokens("") == 0
    assert count_tokens("Paris") == 1
    assert count_tokens("{{review}}") > 1  # the learner's braces are part of the prompt they wrote


def test_special_token_text_is_counted_as_plain_text():
    assert count_tokens("<start_of_turn>") > 1


def test_prompt_tokens_add_the_learners_system_prompt():
    assert prompt_tokens("Answer tersely.", "") == count_tokens("Answer tersely.")
    assert prompt_tokens("Say {{x}}.", "Be brief.") == count_tokens("Say {{x}}.") + count_tokens("Be brief.")
