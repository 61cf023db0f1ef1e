from django.urls import path

from history import views

urlpatterns = [path("audit/", views.audit, name="audit")]
