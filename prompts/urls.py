from rest_framework.routers import SimpleRouter

from prompts.views import CategoryViewSet, TemplateViewSet

router = SimpleRouter()
router.register("templates", TemplateViewSet, basename="template")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = router.urls
