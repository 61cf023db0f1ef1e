from rest_framework.routers import SimpleRouter

from courses import api

router = SimpleRouter()
router.register("protocols", api.ProtocolViewSet)
router.register("patients", api.PatientViewSet, basename="patient")
router.register("courses", api.CourseViewSet, basename="course")
router.register("doses", api.DoseViewSet, basename="dose")

urlpatterns = router.urls
