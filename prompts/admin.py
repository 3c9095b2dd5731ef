"""Admin for moderation and curation. Versioned fields and counters are read-only: they change through services."""

from django.contrib import admin

from prompts.models import Category, Favorite, PromptTemplate, Rating, Tag, TemplateVersion


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "ordering"]
    list_editable = ["ordering"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug"]
    search_fields = ["slug"]


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "title", "author", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "category", "difficulty", "visibility", "version", "rating_avg", "usage_count"]
    list_filter = ["visibility", "difficulty", "category"]
    search_fields = ["title", "description", "owner__username"]
    list_select_related = ["owner", "category"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["owner", "forked_from"]
    date_hierarchy = "created_at"
    # Title, content and specs change only through template_update, which writes the next version.
    readonly_fields = [
        "id",
        "title",
        "content",
        "variable_specs",
        "version",
        "rating_sum",
        "rating_count",
        "rating_avg",
        "favorites_count",
        "usage_count",
        "published_at",
        "created_at",
        "updated_at",
    ]
    inlines = [TemplateVersionInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "title", "author", "created_at"]
    list_select_related = ["template", "author"]
    search_fields = ["title", "template__title"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["template", "user", "score", "updated_at"]
    list_select_related = ["template", "user"]
    raw_id_fields = ["template", "user"]
    list_filter = ["score"]

    # Adding or changing a rating here would bypass the template's counters (deleting stays possible so a
    # template with ratings can still be deleted from its admin page).
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Favorite)
class FavoriteAdmin(admin.ModelAdmin):
    list_display = ["template", "user", "created_at"]
    list_select_related = ["template", "user"]
    raw_id_fields = ["template", "user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
