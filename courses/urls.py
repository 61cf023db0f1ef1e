from django.urls import path
from rest_framework.routers import SimpleRouter

from courses import api, api_feeds, api_fhir

router = SimpleRouter()
router.register("protocols", api.ProtocolViewSet)
router.register("patients", api.PatientViewSet, basename="patient")
router.register("courses", api.CourseViewSet, basename="course")
router.register("doses", api.DoseViewSet, basename="dose")
router.register("me/calendar-feeds", api_feeds.CalendarFeedViewSet, basename="calendar-feed")

urlpatterns = [
    *router.urls,
    path("me/", api_feeds.MeView.as_view(), name="me"),
    path("calendar/<str:token>/", api_feeds.CalendarFeedView.as_view(), name="calendar-feed-ics"),
    path("fhir/Patient/<str:pk>", api_fhir.PatientRead.as_view(), name="fhir-patient"),
    path(
        "fhir/MedicationRequest",
        api_fhir.MedicationRequestSearch.as_view(),
        name="fhir-medicationrequest-search",
    ),
    path(
        "fhir/MedicationRequest/<str:pk>",
        api_fhir.MedicationRequestRead.as_view(),
        name="fhir-medicationrequest",
    ),
    path(
        "fhir/MedicationAdministration",
        api_fhir.MedicationAdministrationSearch.as_view(),
        name="fhir-medicationadministration-search",
    ),
    path(
        "fhir/MedicationAdministration/<str:pk>",
        api_fhir.MedicationAdministrationRead.as_view(),
        name="fhir-medicationadministration",
    ),
]
