from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import NewestFirstPagination, validated
from config.roles import READING_POSTERS, RECIPIENT_READERS, RECORDERS, has_role
from history.api import HistoryMixin
from inventory import selectors, serializers, services
from inventory.filters import ExcursionFilter, LotFilter, MovementFilter, ReadingFilter
from inventory.models import Presentation, Product, Ward
from inventory.serializers import PresentationSerializer, ProductSerializer, WardSerializer


class SavesThroughService:
    """Create and update through the catalogue service the admin uses (inventory.services.
    catalogue), so both paths keep the same rules and the history names the action and user."""

    save_service = None  # staticmethod(services.<entity>_save)
    instance_kwarg = ""  # the service's keyword for the row being changed

    def perform_create(self, serializer):
        serializer.instance = self.save_service(
            fields=dict(serializer.validated_data), user=self.request.user
        )

    def perform_update(self, serializer):
        serializer.instance = self.save_service(
            **{self.instance_kwarg: serializer.instance},
            fields=dict(serializer.validated_data),
            user=self.request.user,
        )


class ProductViewSet(SavesThroughService, HistoryMixin, viewsets.ModelViewSet):
    """Products from the leaflets. Any role reads; pharmacists write."""

    queryset = Product.objects.order_by("name")
    serializer_class = ProductSerializer
    save_service, instance_kwarg = staticmethod(services.product_save), "product"
    filterset_fields = ["code", "keep_dry"]
    ordering_fields = ["name", "code"]


class PresentationViewSet(SavesThroughService, HistoryMixin, viewsets.ModelViewSet):
    """Presentations (strength, container, pack, GTIN). Any role reads; pharmacists write."""

    queryset = Presentation.objects.select_related("product").order_by("product__name", "strength")
    serializer_class = PresentationSerializer
    save_service, instance_kwarg = staticmethod(services.presentation_save), "presentation"
    filterset_fields = ["product", "product__code", "container", "strength_unit", "gtin"]
    ordering_fields = ["strength", "code"]


class WardViewSet(SavesThroughService, HistoryMixin, viewsets.ModelViewSet):
    """Wards. Any role reads; pharmacists write."""

    queryset = Ward.objects.order_by("name")
    serializer_class = WardSerializer
    save_service, instance_kwarg = staticmethod(services.ward_save), "ward"
    filterset_fields = ["code"]


# --- Stock -----------------------------------------------------------------------------------------


def _movements(movements, status=200) -> Response:
    return Response(serializers.MovementSerializer(movements, many=True).data, status=status)


class StorageLocationViewSet(SavesThroughService, HistoryMixin, viewsets.ModelViewSet):
    """Fridges, cold rooms, ward fridges and rooms with their temperature range.

    Not deletable (stock history points at them): set `active` to false instead.
    """

    queryset = selectors.locations_list()
    serializer_class = serializers.StorageLocationSerializer
    save_service, instance_kwarg = staticmethod(services.location_save), "location"
    filterset_fields = ["kind", "ward", "active", "code"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class LotViewSet(HistoryMixin, viewsets.ReadOnlyModelViewSet):
    """Lots with their on-hand and reserved totals; stock changes go through the actions."""

    action_roles = {"recipients": RECIPIENT_READERS}
    queryset = selectors.lots_list()
    serializer_class = serializers.LotSerializer
    filterset_class = LotFilter
    ordering_fields = ["expiry_date", "lot_number", "created_at"]

    @extend_schema(
        request=serializers.ReceiveSerializer, responses={201: serializers.MovementSerializer}
    )
    @action(detail=False, methods=["post"])
    def receive(self, request):
        """Receive vials into a location, from fields or a scanned GS1 code (`gs1`)."""
        data = validated(serializers.ReceiveSerializer, request.data)
        movement = services.lot_receive(**data, user=request.user, on=timezone.localdate())
        return Response(serializers.MovementSerializer(movement).data, status=201)

    def _status_action(self, request, service):
        lot = self.get_object()
        data = validated(serializers.ReasonSerializer, request.data)
        return _movements(
            service(lot_id=lot.pk, user=request.user, on=timezone.localdate(), **data)
        )

    @extend_schema(
        request=serializers.ReasonSerializer, responses=serializers.MovementSerializer(many=True)
    )
    @action(detail=True, methods=["post"])
    def quarantine(self, request, pk=None):
        return self._status_action(request, services.lot_quarantine)

    @extend_schema(
        request=serializers.ReasonSerializer, responses=serializers.MovementSerializer(many=True)
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._status_action(request, services.lot_release)

    @extend_schema(
        request=serializers.ReasonSerializer, responses=serializers.MovementSerializer(many=True)
    )
    @action(detail=True, methods=["post"])
    def recall(self, request, pk=None):
        """Recall the lot everywhere; the recipients endpoint lists who received it."""
        return self._status_action(request, services.lot_recall)

    @extend_schema(
        request=serializers.LotDestroySerializer,
        responses=serializers.MovementSerializer(many=True),
    )
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        """Destroy the lot's stock, at `location_id` only or everywhere."""
        lot = self.get_object()
        data = validated(serializers.LotDestroySerializer, request.data)
        return _movements(
            services.lot_destroy(lot_id=lot.pk, user=request.user, on=timezone.localdate(), **data)
        )

    @extend_schema(responses=serializers.LotRecipientSerializer(many=True))
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk=None):  # not for nurses: see RECIPIENT_READERS
        """Every dispense of this lot: reference, recipient, vials, date (for a recall)."""
        return Response(selectors.lot_recipients(lot_id=self.get_object().pk))


class MovementViewSet(viewsets.ReadOnlyModelViewSet):
    """The stock ledger: read-only, newest first. Nurses get it without recipients (patient
    identifiers of every ward), as on the lot page."""

    queryset = selectors.movements_list()
    serializer_class = serializers.MovementSerializer

    def get_serializer_class(self):
        # The schema is the same for every caller: it documents `recipient` as optional.
        if getattr(self, "swagger_fake_view", False) or has_role(
            self.request.user, *RECIPIENT_READERS
        ):
            return serializers.MovementSerializer
        return serializers.MovementWithoutRecipientSerializer

    filterset_class = MovementFilter
    ordering_fields = ["created_at", "effective_date"]


def _single(service):
    """Adapt a service returning one movement to the list every stock action answers with."""

    def run(**kwargs):
        return [service(**kwargs)]

    return run


def _stock_action(name, input_class, service, doc: str, *, today: bool = True, url_path=None):
    """A POST action: parse `input_class`, call the service (dated today unless the input says)."""

    def handler(self, request):
        data = validated(input_class, request.data)
        if today:
            data["on"] = timezone.localdate()
        return _movements(service(**data, user=request.user), status=201)

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = doc
    handler = action(detail=False, methods=["post"], url_path=url_path)(handler)
    return extend_schema(
        request=input_class, responses={201: serializers.MovementSerializer(many=True)}
    )(handler)


class StockViewSet(viewsets.GenericViewSet):
    """Stock counts, forecast and every vial-moving action.

    Pharmacists do everything; nurses may also dispense, return and record waste.
    """

    action_roles = {
        "dispense": RECORDERS,
        "return_": RECORDERS,
        "waste": RECORDERS,
    }
    serializer_class = serializers.MovementSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[serializers.StockQuerySerializer],
        responses=serializers.StockLevelSerializer(many=True),
    )
    def list(self, request):
        """On-hand, reserved and usable vials per presentation and location (usable on `on`)."""
        query = validated(serializers.StockQuerySerializer, request.query_params)
        return Response(
            selectors.stock_summary(
                on=query.get("on") or timezone.localdate(),
                presentation_id=query.get("presentation"),
                location_id=query.get("location"),
            )
        )

    @extend_schema(
        parameters=[serializers.ForecastQuerySerializer], responses=serializers.ForecastSerializer
    )
    @action(detail=False, methods=["get"])
    def forecast(self, request):
        """Scheduled demand against usable stock, day by day: shortages, lots expiring unused."""
        query = validated(serializers.ForecastQuerySerializer, request.query_params)
        return Response(
            selectors.stock_forecast(
                start=query.get("start") or timezone.localdate(), days=query["days"]
            )
        )

    dispense = _stock_action(
        "dispense",
        serializers.DispenseSerializer,
        services.stock_dispense,
        "Dispense vials today: reserved ones under `reference` first, then FEFO (or `lot_id`).",
    )
    reserve = _stock_action(
        "reserve",
        serializers.ReserveSerializer,
        services.stock_reserve,
        "Hold vials for a dose on `on` (idempotent per reference).",
        today=False,
    )
    transfer = _stock_action(
        "transfer",
        serializers.TransferSerializer,
        services.stock_transfer,
        "Move unreserved vials of a lot to a location whose range suits the product.",
    )
    waste = _stock_action(
        "waste",
        serializers.WasteSerializer,
        _single(services.stock_waste),
        "Vials lost (broken, contaminated, prepared and not given), with a reason.",
    )
    return_ = _stock_action(
        "return_",
        serializers.ReturnSerializer,
        _single(services.stock_return),
        "Unused vials back into stock (at most what was dispensed under `reference`).",
        url_path="return",
    )
    adjust = _stock_action(
        "adjust",
        serializers.AdjustSerializer,
        _single(services.stock_adjust),
        "Correct a count (signed `quantity_delta`) with a reason.",
    )

    @extend_schema(
        request=serializers.ReservationReleaseSerializer,
        responses=serializers.ReservationReleasedSerializer,
    )
    @action(detail=False, methods=["post"], url_path="release-reservation")
    def release_reservation(self, request):
        """Give back every vial held under `reference`."""
        data = validated(serializers.ReservationReleaseSerializer, request.data)
        return Response({"released": services.reservation_release(**data, user=request.user)})


class ReadingViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Temperature readings. POST one reading or a list (a sensor gateway's batch); all or none.

    Posting is for pharmacists and the `sensor-gateway` role, whose only permission it is."""

    action_roles = {"create": READING_POSTERS}

    queryset = selectors.readings_list()
    serializer_class = serializers.ReadingSerializer
    filterset_class = ReadingFilter
    pagination_class = NewestFirstPagination

    @extend_schema(
        # One reading, or a gateway's batch of them.
        request=PolymorphicProxySerializer(
            component_name="ReadingInput",
            serializers=[serializers.ReadingSerializer, serializers.ReadingSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={201: serializers.ReadingsIngestedSerializer},
    )
    def create(self, request, *args, **kwargs):
        result = services.readings_ingest(
            readings=serializers.readings_parse(request.data), user=request.user
        )
        return Response(
            {
                "created": result.created,
                "duplicates": result.duplicates,
                "excursions": serializers.ExcursionSerializer(result.excursions, many=True).data,
            },
            status=201,
        )


class ExcursionViewSet(viewsets.ReadOnlyModelViewSet):
    """Temperature excursions; a pharmacist resolves a closed one by releasing or discarding."""

    queryset = selectors.excursions_list()
    serializer_class = serializers.ExcursionSerializer
    filterset_class = ExcursionFilter

    @extend_schema(
        request=serializers.ExcursionResolveSerializer, responses=serializers.ExcursionSerializer
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        excursion = self.get_object()
        data = validated(serializers.ExcursionResolveSerializer, request.data)
        excursion = services.excursion_resolve(
            excursion_id=excursion.pk,
            resolution=data["resolution"],
            reason=data["reason"],
            user=request.user,
            on=timezone.localdate(),
        )
        return Response(
            serializers.ExcursionSerializer(selectors.excursions_list().get(pk=excursion.pk)).data
        )
