"""What template runs need from prompts: render the current version, report each use."""

from dataclasses import dataclass

from django.http import Http404

from prompts import selectors as prompt_selectors
from prompts import services as prompt_services
from prompts.variables import RenderError, TemplateSyntaxError


@dataclass(frozen=True)
class RenderedTemplate:
    template_id: str
    prompt: str
    version: int


class TemplateRefused(Exception):
    """The template cannot be run; `field` and `errors` say why, as the run request's fields."""

    def __init__(self, message: str, *, field: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors


def template_render(*, user, template_id: str, variables: dict) -> RenderedTemplate:
    """Render the current version of a template the user may see; raises TemplateRefused."""
    try:
        template = prompt_selectors.template_get_visible(template_id=template_id, user=user)
        prompt = prompt_selectors.template_render(template=template, values=variables)
    except Http404:
        raise TemplateRefused("No such template.", field="template") from None
    except RenderError as exc:
        raise TemplateRefused(str(exc), field="variables", errors=exc.errors) from None
    except TemplateSyntaxError as exc:
        raise TemplateRefused(str(exc), field="template") from None
    return RenderedTemplate(template_id=str(template.pk), prompt=prompt, version=template.version)


def template_record_use(*, template_id, user_id) -> None:
    """Tell prompts a template was run (its usage counter)."""
    prompt_services.template_record_use(template_id=template_id, user_id=user_id)
