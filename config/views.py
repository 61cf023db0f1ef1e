from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from config.roles import user_roles


@login_required
def home(request):
    return render(request, "home.html", {"roles": sorted(user_roles(request.user))})


def healthz(request):
    """Liveness for load balancers: the app answers and its database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
