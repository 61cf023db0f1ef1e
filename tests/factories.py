import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from config.roles import Role


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


# --- Courses (patients, weights, wards) ---------------------------------------------------------
import datetime as _dt  # noqa: E402
from decimal import Decimal as _Decimal  # noqa: E402


class WardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.Ward"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ward-{n}")
    name = factory.LazyAttribute(lambda w: w.code.replace("-", " ").title())


class PatientFactory(factory.django.DjangoModelFactory):
    """An adult of 70 kg weighed today, unless told otherwise (`weight_kg=None`: unweighed)."""

    class Meta:
        model = "courses.Patient"
        skip_postgeneration_save = True

    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    name = factory.Sequence(lambda n: f"Patient {n}")
    birth_date = _dt.date(1980, 5, 17)
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
            weight_kg=_Decimal(str(extracted or 70)),
        )
