"""The ward and prescribing pages (config/urls.py includes these at the site root).

Named apart from the API's router names (course-detail, patient-list …) which share the
"course"/"patient" basenames; only "course-list" is the page's, as the navigation asks for it.
"""

from django.urls import path

from courses.views import courses, labels, leaflets, patients, today, today_live

urlpatterns = [
    path("", today.today, name="today"),
    path("today/live/", today_live.today_live, name="today-live"),
    path("courses/", courses.course_list, name="course-list"),
    path("courses/new/", courses.course_prescribe, name="course-prescribe"),
    path("courses/<int:pk>/", courses.course_page, name="course-page"),
    path("courses/<int:pk>/course.ics", courses.course_ical, name="course-page-ical"),
    path("courses/<int:pk>/fhir.json", courses.course_fhir, name="course-page-fhir"),
    path("doses/<int:pk>/label/", labels.dose_label, name="dose-label"),
    path("labels/", labels.day_labels, name="labels"),
    path("leaflets/<slug:product>/", leaflets.leaflet_page, name="leaflet"),
    path("formulary/", leaflets.formulary_page, name="formulary"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/<int:pk>/", patients.patient_page, name="patient-page"),
]
