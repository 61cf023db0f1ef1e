from rest_framework.routers import SimpleRouter

from inventory import api

router = SimpleRouter()
router.register("products", api.ProductViewSet)
router.register("presentations", api.PresentationViewSet)
router.register("wards", api.WardViewSet)
router.register("locations", api.StorageLocationViewSet)
router.register("lots", api.LotViewSet)
router.register("movements", api.MovementViewSet)
router.register("stock", api.StockViewSet, basename="stock")
router.register("readings", api.ReadingViewSet)
router.register("excursions", api.ExcursionViewSet)

urlpatterns = router.urls
