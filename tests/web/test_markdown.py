"""Lessons are Markdown written by any author: what reaches the page is escaped, never run."""

import pytest

from web.markdown import render_lesson


def test_markdown_becomes_html_with_headings_one_level_under_the_page_title():
    html = render_lesson(
        "# Few-shot\n\nShow **two** examples:\n\n```\nReview: {{review}}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )

    assert html == (
        "<h2>Few-shot</h2>\n<p>Show <strong>two</strong> examples:</p>\n"
        "<pre><code>Review: {{review}}\n</code></pre>\n"
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>\n</tr>\n</thead>\n"
        "<tbody>\n<tr>\n<td>1</td>\n<td>2</td>\n</tr>\n</tbody>\n</table>\n"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ('<img src="x" onerror="alert(1)">', "<p>&lt;img src=&quot;x&quot; onerror=&quot;alert(1)&quot;&gt;</p>\n"),
        ("Hi <b onclick=x()>there</b>", "<p>Hi &lt;b onclick=x()&gt;there&lt;/b&gt;</p>\n"),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
        ("[click](JAVASCRIPT:alert(1))", "<p>[click](JAVASCRIPT:alert(1))</p>\n"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>\n"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"),
    ],
)
def test_raw_html_and_unsafe_links_stay_text(source, expected):
    assert render_lesson(source) == expected


def test_links_do_not_pass_the_page_on_and_images_are_not_fetched():
    html = render_lesson("[the docs](https://example.org/guide) ![tracker](https://tracker.example/pixel.png)")

    assert html == (
        '<p><a href="https://example.org/guide" rel="nofollow noopener noreferrer">the docs</a> '
        '!<a href="https://tracker.example/pixel.png" rel="nofollow noopener noreferrer">tracker</a></p>\n'
    )
    assert "<img" not in html


def test_an_empty_lesson_is_empty():
    assert render_lesson("") == ""
