from rest_framework.routers import SimpleRouter

from inventory import api

router = SimpleRouter()
router.register("products", api.ProductViewSet)
router.register("presentations", api.PresentationViewSet)
router.register("wards", api.WardViewSet)

urlpatterns = router.urls
