from rest_framework.routers import SimpleRouter

from courses import api

router = SimpleRouter()
router.register("protocols", api.ProtocolViewSet)

urlpatterns = router.urls
