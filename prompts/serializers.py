"""Input and output shapes of the templates API; rules live in prompts.services."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializer_fields import JSONField
from prompts import selectors, variables
from prompts.models import Category, Difficulty, PromptTemplate, TemplateVersion, Visibility

MAX_TAGS = 10
TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
tag_validator = RegexValidator(
    TAG_PATTERN, "Tags are lowercase letters and digits, words joined by single hyphens (e.g. 'few-shot')."
)


class OwnerSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)


class CategorySerializer(serializers.ModelSerializer):
    templates_count = serializers.IntegerField(read_only=True, help_text="Public templates in the category.")

    class Meta:
        model = Category
        fields = ["slug", "name", "description", "ordering", "templates_count"]


class TagSerializer(serializers.Serializer):
    slug = serializers.CharField(read_only=True)
    templates_count = serializers.IntegerField(read_only=True, help_text="Public templates with the tag.")


class TagQuerySerializer(serializers.Serializer):
    prefix = serializers.RegexField(
        r"^[a-z0-9-]*$", max_length=32, required=False, default="", help_text="Only tags starting with this."
    )


class VariableSpecSerializer(serializers.Serializer):
    """How one `{{ name }}` variable is filled in (documentation of the `variable_specs` values)."""

    label = serializers.CharField(required=False, max_length=variables.MAX_LABEL_LENGTH)
    help = serializers.CharField(required=False, allow_blank=True, max_length=variables.MAX_HELP_LENGTH)
    type = serializers.ChoiceField(choices=variables.VARIABLE_TYPES, required=False, default=variables.TYPE_TEXT)
    choices = serializers.ListField(
        child=serializers.CharField(max_length=variables.MAX_CHOICE_LENGTH), required=False, help_text="enum only"
    )
    default = serializers.JSONField(required=False, allow_null=True)
    required = serializers.BooleanField(required=False, default=True)


class VariableSerializer(VariableSpecSerializer):
    """A variable of the content with its effective spec."""

    name = serializers.CharField()


def _contains_nul(value) -> bool:
    """Any NUL character in a parsed JSON value (iterative: nesting depth is the client's choice)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@extend_schema_field(serializers.DictField(child=VariableSpecSerializer()))
class VariableSpecsField(JSONField):
    """`{name: spec}`; checked against the content by the service (a spec for an unused variable is a 400)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be an object mapping variable names to specs.")
        # PostgreSQL's jsonb cannot store NUL characters: refuse them here rather than fail on save.
        if _contains_nul(data):
            raise serializers.ValidationError("Null characters are not allowed.")
        return data


class CategoryField(serializers.SlugRelatedField):
    """A category by slug; a slug with a NUL (which PostgreSQL text cannot hold) is simply not found."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Category.objects.all(), allow_null=True, required=False, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


def _variables_of(content: str, specs: dict) -> list[dict]:
    return variables.describe_variables(content, specs)


class TemplateSerializer(serializers.ModelSerializer):
    owner = OwnerSerializer(read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tags = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    variables = serializers.SerializerMethodField()
    variable_specs = VariableSpecsField(read_only=True)
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False, read_only=True)
    is_favorited = serializers.SerializerMethodField()
    my_rating = serializers.SerializerMethodField()

    class Meta:
        model = PromptTemplate
        fields = [
            "id",
            "title",
            "description",
            "content",
            "variables",
            "variable_specs",
            "category",
            "tags",
            "difficulty",
            "visibility",
            "version",
            "owner",
            "forked_from",
            "rating_avg",
            "rating_count",
            "favorites_count",
            "usage_count",
            "is_favorited",
            "my_rating",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(VariableSerializer(many=True))
    def get_variables(self, template: PromptTemplate) -> list[dict]:
        return _variables_of(template.content, template.variable_specs)

    def get_is_favorited(self, template: PromptTemplate) -> bool:
        return bool(getattr(template, "is_favorited", False))

    @extend_schema_field(serializers.IntegerField(allow_null=True, min_value=1, max_value=5))
    def get_my_rating(self, template: PromptTemplate) -> int | None:
        return getattr(template, "my_rating", None)


class TemplateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    content = serializers.CharField(max_length=20_000, trim_whitespace=False)
    variable_specs = VariableSpecsField(required=False)
    category = CategoryField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=32, validators=[tag_validator]),
        max_length=MAX_TAGS,
        required=False,
    )
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    def validate_tags(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class VersionSerializer(serializers.ModelSerializer):
    author = OwnerSerializer(read_only=True, allow_null=True)
    variables = serializers.SerializerMethodField()
    variable_specs = VariableSpecsField(read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["number", "title", "content", "variables", "variable_specs", "author", "created_at"]
        read_only_fields = fields

    @extend_schema_field(VariableSerializer(many=True))
    def get_variables(self, version: TemplateVersion) -> list[dict]:
        return _variables_of(version.content, version.variable_specs)


class RateInputSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)


class RatingResultSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    rating_avg = serializers.DecimalField(max_digits=3, decimal_places=2, coerce_to_string=False)
    rating_count = serializers.IntegerField()


class FavoriteResultSerializer(serializers.Serializer):
    favorited = serializers.BooleanField()
    favorites_count = serializers.IntegerField()


class RenderInputSerializer(serializers.Serializer):
    variables = serializers.DictField(
        child=serializers.JSONField(allow_null=True), required=False, default=dict, help_text="{name: value}"
    )


class RenderQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, required=False, help_text="Render this saved version."
    )


class RenderResultSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    version = serializers.IntegerField()


class TransferTemplateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    content = serializers.CharField(max_length=20_000, trim_whitespace=False)
    variable_specs = VariableSpecsField(required=False)
    category = CategoryField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=32, validators=[tag_validator]), max_length=MAX_TAGS, required=False
    )
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)
    version = serializers.IntegerField(read_only=True)


class TransferVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=20_000, trim_whitespace=False)
    variable_specs = VariableSpecsField(required=False)
    created_at = serializers.DateTimeField(read_only=True)


class TransferDocumentSerializer(serializers.Serializer):
    """The export document; importing one creates a private copy with its history."""

    MAX_VERSIONS = 500

    format = serializers.ChoiceField(choices=[selectors.EXPORT_FORMAT])
    format_version = serializers.ChoiceField(choices=[selectors.EXPORT_FORMAT_VERSION])
    template = TransferTemplateSerializer()
    versions = serializers.ListField(
        child=TransferVersionSerializer(), max_length=MAX_VERSIONS, required=False, default=list
    )

    def validate_versions(self, value: list[dict]) -> list[dict]:
        numbers = [version["number"] for version in value]
        if len(set(numbers)) != len(numbers):
            raise serializers.ValidationError("Version numbers must be distinct.")
        return sorted(value, key=lambda version: version["number"])
