"""HTTP for templates and categories: parse, call one service or selector, answer."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from prompts import selectors, services, variables
from prompts.filters import TemplateFilter
from prompts.models import PromptTemplate
from prompts.serializers import (
    CategorySerializer,
    FavoriteResultSerializer,
    RateInputSerializer,
    RatingResultSerializer,
    RenderInputSerializer,
    RenderQuerySerializer,
    RenderResultSerializer,
    TagQuerySerializer,
    TagSerializer,
    TemplateInputSerializer,
    TemplateSerializer,
    TransferDocumentSerializer,
    VersionSerializer,
)

NOT_FOUND = OpenApiResponse(description="No such template, or not yours to see.")
TEMPLATE_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="Template id.")
VERSION_NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version number.")


@extend_schema_view(list=extend_schema(tags=["templates"]))
class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Template categories in display order."""

    serializer_class = CategorySerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.category_list()


@extend_schema_view(list=extend_schema(tags=["templates"], parameters=[TagQuerySerializer]))
class TagViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Tags of public templates, most used first."""

    serializer_class = TagSerializer
    filter_backends: list = []

    def get_queryset(self):
        query = TagQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.tag_list(prefix=query.validated_data["prefix"])


@extend_schema(tags=["templates"])
class TemplateViewSet(viewsets.GenericViewSet):
    """Prompt templates: yours, public ones in lists, unlisted ones by id."""

    serializer_class = TemplateSerializer
    filterset_class = TemplateFilter
    lookup_value_regex = "[^/]+"  # any id reaches the view, so a non-UUID is a JSON 404
    queryset = PromptTemplate.objects.none()

    def get_queryset(self):
        return selectors.template_list(user=self.request.user)

    def _visible(self, pk: str) -> PromptTemplate:
        return selectors.template_get_visible(template_id=pk, user=self.request.user)

    def _detail_data(self, pk) -> dict:
        template = selectors.template_detail(template_id=pk, user=self.request.user)
        return TemplateSerializer(template, context=self.get_serializer_context()).data

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TemplateSerializer(page, many=True).data)

    @extend_schema(request=TemplateInputSerializer, responses={201: TemplateSerializer})
    def create(self, request: Request) -> Response:
        serializer = TemplateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_create(owner=request.user, **serializer.validated_data)
        return Response(self._detail_data(template.pk), status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[TEMPLATE_ID], responses={200: TemplateSerializer, 404: NOT_FOUND})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._detail_data(pk))

    def _update(self, request: Request, pk: str, *, partial: bool) -> Response:
        template = self._visible(pk)
        serializer = TemplateInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.template_update(template=template, actor=request.user, **serializer.validated_data)
        return Response(self._detail_data(template.pk))

    @extend_schema(
        parameters=[TEMPLATE_ID],
        request=TemplateInputSerializer,
        responses={200: TemplateSerializer, 403: None, 404: NOT_FOUND},
    )
    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        parameters=[TEMPLATE_ID],
        request=TemplateInputSerializer,
        responses={200: TemplateSerializer, 403: None, 404: NOT_FOUND},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=True)

    @extend_schema(parameters=[TEMPLATE_ID], responses={204: None, 403: None, 404: NOT_FOUND})
    def destroy(self, request: Request, pk: str) -> Response:
        services.template_delete(template=self._visible(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[TEMPLATE_ID], responses={200: VersionSerializer(many=True), 404: NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[])
    def versions(self, request: Request, pk: str) -> Response:
        """Every saved state of the template, oldest first."""
        page = self.paginate_queryset(selectors.template_versions(template=self._visible(pk)))
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(parameters=[TEMPLATE_ID, VERSION_NUMBER], responses={200: VersionSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})", filter_backends=[])
    def version(self, request: Request, pk: str, number: str) -> Response:
        """One saved version."""
        version = selectors.template_version_get(template=self._visible(pk), number=int(number))
        return Response(VersionSerializer(version).data)

    @extend_schema(
        parameters=[TEMPLATE_ID, VERSION_NUMBER],
        request=None,
        responses={
            201: OpenApiResponse(TemplateSerializer, description="The version's content is now the next version."),
            200: OpenApiResponse(TemplateSerializer, description="The template already had that content."),
            403: None,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"versions/(?P<number>[0-9]{1,9})/restore",
        filter_backends=[],
    )
    def restore(self, request: Request, pk: str, number: str) -> Response:
        """The owner restores a saved version: its title, content and specs become a new version."""
        template, created = services.template_version_restore(
            template=self._visible(pk), actor=request.user, number=int(number)
        )
        return Response(
            self._detail_data(template.pk), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(parameters=[TEMPLATE_ID], request=None, responses={201: TemplateSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], filter_backends=[])
    def fork(self, request: Request, pk: str) -> Response:
        """Copy the current version into a new private template of yours."""
        fork = services.template_fork(template=self._visible(pk), user=request.user)
        return Response(self._detail_data(fork.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[TEMPLATE_ID], request=RateInputSerializer, responses={200: RatingResultSerializer, 404: NOT_FOUND}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def rate(self, request: Request, pk: str) -> Response:
        """Rate someone else's template 1-5; rating again changes your score."""
        template = self._visible(pk)
        serializer = RateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rating = services.template_rate(template=template, user=request.user, score=serializer.validated_data["score"])
        template.refresh_from_db(fields=["rating_avg", "rating_count"])
        data = {"score": rating.score, "rating_avg": template.rating_avg, "rating_count": template.rating_count}
        return Response(RatingResultSerializer(data).data)

    @extend_schema(
        parameters=[TEMPLATE_ID],
        request=None,
        responses={201: FavoriteResultSerializer, 200: FavoriteResultSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def favorite(self, request: Request, pk: str) -> Response:
        """Add to your favourites (200 if it already was one)."""
        template = self._visible(pk)
        created = services.template_favorite_add(template=template, user=request.user)
        template.refresh_from_db(fields=["favorites_count"])
        data = {"favorited": True, "favorites_count": template.favorites_count}
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(parameters=[TEMPLATE_ID], request=None, responses={204: None, 404: NOT_FOUND})
    @favorite.mapping.delete
    def unfavorite(self, request: Request, pk: str) -> Response:
        """Remove from your favourites (also 204 if it was not one)."""
        services.template_favorite_remove(template=self._visible(pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=RenderInputSerializer,
        parameters=[TEMPLATE_ID, RenderQuerySerializer],
        responses={200: RenderResultSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def render(self, request: Request, pk: str) -> Response:
        """Fill the variables in; 400 names every missing, unknown or ill-typed variable."""
        template = self._visible(pk)
        query = RenderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = RenderInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = query.validated_data.get("version") or template.version
        try:
            prompt = selectors.template_render(
                template=template, values=body.validated_data["variables"], version=version
            )
        except variables.RenderError as exc:
            raise ValidationError({"variables": exc.errors}) from None
        return Response({"prompt": prompt, "version": version})

    @extend_schema(parameters=[TEMPLATE_ID], responses={200: TransferDocumentSerializer, 404: NOT_FOUND})
    @action(detail=True, methods=["get"], filter_backends=[])
    def export(self, request: Request, pk: str) -> Response:
        """A self-contained JSON document: the template, its specs and its version history."""
        return Response(selectors.template_export(template=self._visible(pk)))

    @extend_schema(request=TransferDocumentSerializer, responses={201: TemplateSerializer})
    @action(detail=False, methods=["post"], url_path="import", filter_backends=[])
    def import_document(self, request: Request) -> Response:
        """Create a private template of yours from an exported document."""
        serializer = TransferDocumentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = services.template_import(
            owner=request.user,
            template=serializer.validated_data["template"],
            versions=serializer.validated_data["versions"],
        )
        return Response(self._detail_data(template.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[TEMPLATE_ID], request=None, responses={200: TemplateSerializer, 403: None, 404: NOT_FOUND}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def unpublish(self, request: Request, pk: str) -> Response:
        """Staff moderation: make a public or unlisted template private to its owner."""
        template = services.template_unpublish(template=self._visible(pk), actor=request.user)
        return Response(TemplateSerializer(template).data)
