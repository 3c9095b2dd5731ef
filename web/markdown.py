"""Challenge lessons (Markdown written by any author) as HTML that is safe to put in a page.

CommonMark through markdown-it-py with raw HTML off: every `<tag>` an author writes is escaped,
and links whose scheme is not safe (`javascript:`, `vbscript:`, `file:`, most `data:`) stay text.
Images are off too, so a lesson never makes the reader's browser fetch a third party's URL.
Headings move one level down: the page's own `<h1>` is the challenge's title.
"""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

LINK_REL = "nofollow noopener noreferrer"


def _link_open(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    tokens[idx].attrSet("rel", LINK_REL)
    return self.renderToken(tokens, idx, options, env)


def _heading(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return self.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"]).disable("image")
    parser.add_render_rule("link_open", _link_open)
    parser.add_render_rule("heading_open", _heading)
    parser.add_render_rule("heading_close", _heading)
    return parser


_markdown = _parser()


def render_lesson(text: str) -> SafeString:
    """The lesson's HTML: markdown-it escapes whatever HTML the source holds, so it is marked safe."""
    return mark_safe(_markdown.render(text or ""))  # noqa: S308 (escaped by the parser)
