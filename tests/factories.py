import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from config.roles import Role
from inventory import models as inv


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@hospital.test")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-only")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            group, _ = Group.objects.get_or_create(name=Role(role).value)
            self.groups.add(group)
        if create:
            self.save()


# --- inventory -----------------------------------------------------------------------------------


class ProductFactory(factory.django.DjangoModelFactory):
    """Ceruloplasmin-like by default (2–8 °C); `betaleukin=True` gives a ≤ 15 °C product."""

    class Meta:
        model = inv.Product
        django_get_or_create = ("code",)

    class Params:
        betaleukin = factory.Trait(
            code="betaleukin", name="Betaleukin", storage_min_c=None, storage_max_c=Decimal("15")
        )

    code = "ceruloplasmin"
    name = "Ceruloplasmin"
    active_substance = factory.LazyAttribute(lambda p: p.name)
    storage_min_c = Decimal("2")
    storage_max_c = Decimal("8")
    shelf_life_months = 24
    leaflet_file = "test.txt"


class PresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = inv.Presentation
        django_get_or_create = ("code",)

    product = factory.SubFactory(ProductFactory)
    code = factory.LazyAttribute(lambda p: f"{p.product.code}-100mg-vial-5")
    strength = Decimal("100")
    strength_unit = "mg"
    container = "vial"
    pack_size = 5
    gtin = None


# --- Courses (patients, weights) ---


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = inv.Ward
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ward-{n}")
    name = factory.LazyAttribute(lambda w: w.code.title())


class StorageLocationFactory(factory.django.DjangoModelFactory):
    """A 2–8 °C pharmacy fridge unless told otherwise."""

    class Meta:
        model = inv.StorageLocation

    code = factory.Sequence(lambda n: f"fridge-{n}")
    name = factory.LazyAttribute(lambda loc: loc.code.replace("-", " ").title())
    kind = inv.LocationKind.FRIDGE
    min_c = Decimal("2")
    max_c = Decimal("8")


class LotFactory(factory.django.DjangoModelFactory):
    """A lot record without stock; receive stock through `inventory.services.lot_receive`."""

    class Meta:
        model = inv.Lot

    presentation = factory.SubFactory(PresentationFactory)
    lot_number = factory.Sequence(lambda n: f"L{n:05d}")
    expiry_date = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=365))


class PatientFactory(factory.django.DjangoModelFactory):
    """An adult of 70 kg weighed today, unless told otherwise (`weight_kg=False`: unweighed)."""

    class Meta:
        model = "courses.Patient"
        skip_postgeneration_save = True

    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    name = factory.Sequence(lambda n: f"Patient {n}")
    birth_date = datetime.date(1980, 5, 17)
    sex = "female"
    ward = factory.SubFactory(WardFactory)

    @factory.post_generation
    def weight_kg(self, create, extracted, **kwargs):
        """weight_kg=False leaves the patient unweighed; weight_kg__on dates the weighing."""
        from django.utils import timezone

        from courses.models import PatientWeight

        if not create or extracted is False:
            return
        PatientWeight.objects.create(
            patient=self,
            measured_on=kwargs.get("on") or timezone.localdate(),
            weight_kg=Decimal(str(extracted or 70)),
        )


def receive_every_presentation(location, *, quantity, prefix, user, on) -> dict:
    """One lot of every formulary presentation received into `location` through the service
    (lot number `<prefix><presentation pk>`, expiring a year after `on`), by presentation code,
    in presentation order."""
    from inventory.services import lot_receive

    return {
        p.code: lot_receive(
            presentation_id=p.pk,
            location_id=location.pk,
            quantity=quantity,
            lot_number=f"{prefix}{p.pk:03d}",
            expiry_date=on + datetime.timedelta(days=365),
            user=user,
            on=on,
        ).lot
        for p in inv.Presentation.objects.order_by("pk")
    }
