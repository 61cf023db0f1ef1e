"""The signed-in user (`me/`), their calendar feeds, and the feed itself (`calendar/<token>/`).

Calendar apps subscribe to a URL and send no headers, so a feed is reached by its secret token
alone; the token stands for its user, who sees exactly what the API shows them (nurses: their
wards' doses), and revoking it ends every subscription at once.
"""

from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.roles import ALL_ROLES, user_roles
from courses import exports, selectors, services
from courses.models import CalendarFeed


def feed_url(token: str) -> str:
    from django.conf import settings

    return f"{settings.SITE_URL}/api/v1/calendar/{token}/"


class CalendarFeedSerializer(serializers.ModelSerializer):
    ward = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = CalendarFeed
        fields = ["id", "label", "ward", "created_at", "last_used_at"]


class CalendarFeedCreateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    ward = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class CalendarFeedCreatedSerializer(CalendarFeedSerializer):
    url = serializers.CharField(help_text="The feed's address; shown once, keep it secret.")

    class Meta(CalendarFeedSerializer.Meta):
        fields = [*CalendarFeedSerializer.Meta.fields, "url"]


class WardRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.ListField(child=serializers.CharField())
    wards = WardRefSerializer(many=True)
    language = serializers.CharField()
    calendar_feeds = CalendarFeedSerializer(many=True)


class MeView(APIView):
    """Who is signed in: roles, wards (a nurse's own), language and live calendar feeds."""

    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "email": user.email,
            "roles": sorted(user_roles(user)),
            "wards": list(request.user.wards.order_by("name").values("code", "name")),
            "language": translation.get_language(),
            "calendar_feeds": selectors.calendar_feeds_of(user),
        }
        return Response(MeSerializer(data).data)


class CalendarFeedViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The user's own calendar feeds: POST creates one (its URL is answered once), DELETE
    revokes it. Every role may keep feeds of what it may see."""

    serializer_class = CalendarFeedSerializer
    write_roles = ALL_ROLES
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return CalendarFeed.objects.none()
        return selectors.calendar_feeds_of(self.request.user)

    @extend_schema(
        request=CalendarFeedCreateSerializer,
        responses={201: CalendarFeedCreatedSerializer},
        tags=["me"],
    )
    def create(self, request):
        data = CalendarFeedCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feed, token = services.calendar_feed_create(
            user=request.user,
            label=data.validated_data["label"],
            ward_code=data.validated_data["ward"],
        )
        body = {**CalendarFeedSerializer(feed).data, "url": feed_url(token)}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, tags=["me"])
    def destroy(self, request, pk=None):
        services.calendar_feed_revoke(feed=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarFeedView(APIView):
    """A subscribed calendar: the doses the feed's user may see (text/calendar). The token in
    the path is the credential; an unknown or revoked one answers 404."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        # secrets.token_urlsafe(32): 43 URL-safe base64 characters (any other answers 404).
        parameters=[
            OpenApiParameter(
                "token", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[A-Za-z0-9_-]{43}$"
            )
        ],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="iCalendar")
        },
        tags=["calendar"],
    )
    def get(self, request, token: str):
        feed = selectors.calendar_feed_by_token(services.calendar_token_hash(token))
        if feed is None:
            raise Http404
        services.calendar_feed_used(feed=feed)
        ward_code = feed.ward.code if feed.ward else ""
        doses = selectors.feed_doses(feed.user, ward_code=ward_code, on=timezone.localdate())
        name = feed.label or f"Infusions – {feed.ward.name if feed.ward else feed.user}"
        body = exports.doses_ical(doses, name=name)
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        # Opened in a browser, the feed saves under its own name (often not ASCII).
        response["Content-Disposition"] = exports.download_disposition(f"{name}.ics", inline=True)
        response["Cache-Control"] = "private, max-age=300"
        return response
