from rest_framework.routers import SimpleRouter

from prompts.views import CategoryViewSet, TagViewSet, TemplateViewSet

router = SimpleRouter()
router.register("templates", TemplateViewSet, basename="template")
router.register("categories", CategoryViewSet, basename="category")
router.register("tags", TagViewSet, basename="tag")

urlpatterns = router.urls
