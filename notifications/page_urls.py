from django.urls import path

from notifications import views

urlpatterns = [
    path("accounts/settings/", views.preferences, name="preferences"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/resend/", views.alert_resend, name="alert-resend"),
    path("alerts/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest-unsubscribe"),
]
