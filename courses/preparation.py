"""How to prepare and give one dose, as data a nurse can follow. No Django imports.

The leaflets' preparation texts are the only source (`courses/leaflets/`); each route's method
below quotes them. Where a leaflet is silent the preparation says so (`silent`) instead of
inventing: no storage time of a made-up solution, no drop factor, no way of combining ampoules.

The one arithmetic a nurse must never do herself: a dose smaller than the opened containers is
its share of the made-up volume (design.md: 50 mg of a 100 mg vial in 200 ml = give 100 ml,
discard 100 ml; the Ceruloplasmin leaflet itself says "50 mg (or 100 ml of injection
solution)"). Volumes are rounded to what a syringe or bag scale measures (`measurable`), and the
rounding's effect on the dose is shown when it is more than 1 %.

Routes:
- iv_drip (Biocerulin, Ceruloplasmin): every opened container is dissolved in the one 200 ml bag
  (design.md); the dose is the share `dose / concentration` of it; 30 drops per minute.
- iv_infusion (Betaleukin): each ampoule dissolved in 1 ml, made up to 100 ml with 0.9% NaCl; the
  volume of that solution holding the dose is added to the 500 ml bag, which is given whole over
  the prescribed 120–180 minutes; the rest of the 100 ml is discarded.
- sc (Betaleukin): each ampoule dissolved in 0.5 ml (the leaflet allows 0.5–1 ml); the dose is its
  share of the combined volume.

Every sentence is kept as a `Msg` (an English msgid and its parameters), not a finished string,
so each reader gets it in their language: `Renderer` below writes the English (the API's default,
`as_dict()`), and `courses/preparation_text.py` the active language through Django's gettext, with
the decimal comma on Ukrainian pages. The markers `_`, `ngettext` and `pgettext` here translate
nothing: they are named so that `makemessages` (xgettext) extracts their msgids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from courses.units import UNIT_LABELS, Mass, tidy


@dataclass(frozen=True)
class Msg:
    """One sentence (or phrase) of a preparation: `text` in English with `%(name)s` parameters;
    `plural` and `count` when the words follow a number (Ukrainian has three forms); `context`
    where Ukrainian declines a name differently ("a bag of …")."""

    text: str
    params: tuple[tuple[str, object], ...] = ()
    plural: str = ""
    count: int | None = None
    context: str = ""

    def __str__(self) -> str:
        return ENGLISH(self)


@dataclass(frozen=True)
class Quantity:
    """A number with its unit ("0.93 ml", "15 ng/ml"): the number as computed, written with the
    reader's decimal separator; the unit in the reader's language."""

    amount: Decimal
    unit: str  # a key of UNIT_TEXT, or "<mass unit>/ml"


@dataclass(frozen=True)
class Number:
    amount: Decimal
    signed: bool = False  # "+1.3" for the rounding's effect


@dataclass(frozen=True)
class Joined:
    parts: tuple[object, ...]
    separator: str = " + "


@dataclass(frozen=True)
class Day:
    """A date in a sentence: ISO in English and the API, the language's own way on pages."""

    day: dt.date

    @classmethod
    def of(cls, value: dt.date | str) -> Day:
        """From a date or its ISO text (a lot suggestion as the API carries it)."""
        return cls(value if isinstance(value, dt.date) else dt.date.fromisoformat(value))


def _(text: str, /, **params) -> Msg:
    return Msg(text, tuple(params.items()))


def ngettext(singular: str, plural: str, count: int, /, **params) -> Msg:
    return Msg(singular, tuple({"count": count, **params}.items()), plural=plural, count=count)


def pgettext(context: str, text: str, /) -> Msg:
    return Msg(text, context=context)


class Renderer:
    """Writes a `Msg` in English with the point as decimal separator, as the API always has.
    `courses.preparation_text.LocaleRenderer` overrides the hooks with gettext and Django's formats."""

    def gettext(self, msg: Msg) -> str:
        return msg.plural if msg.plural and msg.count != 1 else msg.text

    def number(self, amount: Decimal) -> str:
        return f"{amount:f}"

    def date(self, day: dt.date) -> str:
        return day.isoformat()

    def unit(self, unit: str) -> str:
        """'ml', 'mg/ml' in the reader's language."""
        mass, _slash, per = unit.partition("/")
        return self(UNIT_TEXT[mass]) + (f"/{self(UNIT_TEXT[per])}" if per else "")

    def __call__(self, value) -> str:
        # A preparation's dozen sentences and their parameters come through here: the two
        # commonest kinds first, by exact type (a subclass takes the isinstance path below).
        kind = type(value)
        if kind is Msg:
            text = self.gettext(value)
            if not value.params:
                return text
            return text % {name: self(param) for name, param in value.params}
        if kind is Quantity:
            return f"{self.number(value.amount)} {self.unit(value.unit)}"
        if isinstance(value, Msg):
            text = self.gettext(value)
            if not value.params:
                return text
            return text % {name: self(param) for name, param in value.params}
        if isinstance(value, Quantity):
            return f"{self.number(value.amount)} {self.unit(value.unit)}"
        if isinstance(value, Number):
            sign = ("-" if value.amount < 0 else "+") if value.signed else ""
            return sign + self.number(abs(value.amount) if value.signed else value.amount)
        if isinstance(value, Joined):
            return value.separator.join(self(part) for part in value.parts)
        if isinstance(value, Day):
            return self.date(value.day)
        return str(value)


ENGLISH = Renderer()

UNIT_TEXT = {"mg": _("mg"), "ug": _("µg"), "ng": _("ng"), "ml": _("ml")}

ROUNDING_RULE = _(
    "Volumes are rounded to 0.01 ml under 1 ml, to 0.1 ml under 10 ml and to 1 ml from 10 ml."
)
# The rounding's effect on the dose is spelled out above this (percent of the prescribed dose).
ROUNDING_SHOWN_ABOVE_PERCENT = Decimal(1)

# Betaleukin IV, leaflet 002 "Rules for the preparation of solutions".
BETALEUKIN_IV_SOLVENT_ML = Decimal(1)
BETALEUKIN_IV_MADE_UP_TO_ML = Decimal(100)
# Betaleukin SC: "dissolved in 0.5-1 ml" — the two bounds, the smaller preferred.
SC_SOLVENT_ML = (Decimal("0.5"), Decimal(1))


@dataclass(frozen=True)
class Citation:
    """A leaflet passage, named the way a clinician cites it ("… leaflet — section")."""

    product: str  # product code: the leaflet page to link to
    title: str
    quote: str

    def as_dict(self) -> dict:
        return {"product": self.product, "title": self.title, "quote": self.quote}


LEAFLET_PREPARATION = {
    "biocerulin": Citation(
        "biocerulin",
        "Biocerulin leaflet — Dosage and administration",
        "The drug is administered in / drip at a rate of 30 drops per minute. Before "
        "administration, dilute the contents of the vial or ampoule in 200 ml of 5% glucose "
        "solution or 0.9% sodium chloride solution.",
    ),
    "ceruloplasmin": Citation(
        "ceruloplasmin",
        "Ceruloplasmin leaflet — Dosing and administration",
        "Injection is carried out in / in the method (per minute 30 drops). Before the procedure, "
        "it is required to dissolve the contents of the ampule or vial in a solution (200 ml "
        "volume) of sodium chloride or glucose (5%).",
    ),
    "betaleukin_iv": Citation(
        "betaleukin",
        "Betaleukin leaflet — Rules for the preparation of solutions",
        "For solution for IV infusion contents of the ampoule (vial) was dissolved immediately "
        "before use in 1 ml of sterile 0.9% p-ra sodium chloride or water, d / and and bring the "
        "total volume of 100 ml 0.9% p-rum sodium chloride. To achieve the estimated dose "
        "infusion the solution was diluted in the required amount (depending on the initial "
        "dose of the drug in the vial or bottle, and, accordingly, its concentration in the "
        "resulting solution) in 500 ml of 0.9% p-ra sodium chloride or 5% dextrose p-pa.",
    ),
    "betaleukin_sc": Citation(
        "betaleukin",
        "Betaleukin leaflet — Rules for the preparation of solutions",
        "To obtain a solution for subcutaneous injection contents ampoule (vial) is dissolved in "
        "0.5-1 ml of sterile 0.9% p-ra sodium chloride or water, d / and.",
    ),
}

# "Prepare immediately before use" only where a leaflet says it; the ceruloplasmin leaflets say
# "before administration / before the procedure" and give no time a made-up solution keeps.
WHEN_TO_PREPARE = {
    "betaleukin": _(
        "Prepare immediately before use (Betaleukin leaflet — Rules for the "
        "preparation of solutions: “dissolved immediately before use”)."
    ),
    "biocerulin": _(
        "Prepare just before administration (Biocerulin leaflet — Dosage and "
        "administration: “Before administration, dilute …”); the leaflet gives no time the "
        "solution keeps."
    ),
    "ceruloplasmin": _(
        "Prepare just before the infusion (Ceruloplasmin leaflet — Dosing and "
        "administration: “Before the procedure, it is required to dissolve …”); the leaflet gives "
        "no time the solution keeps."
    ),
}

# The names a preparation says (courses.models.Diluent's labels, the Betaleukin solvent, the
# defaults), alone and after "a bag of" / "in 1 ml of": Ukrainian puts them in the genitive.
OF = "after 'a bag of' or 'in 1 ml of'"
# The context is spelled out in each call: xgettext reads literals only.
_NAMES = (
    # xgettext:no-python-format
    _("sterile 0.9% sodium chloride or water for injection"),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "0.9% sodium chloride",
    ),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "5% glucose",
    ),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "Water for injection",
    ),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "the diluent",
    ),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "0.9% sodium chloride or 5% dextrose",
    ),
    pgettext(
        "after 'a bag of' or 'in 1 ml of'",
        # xgettext:no-python-format
        "sterile 0.9% sodium chloride or water for injection",
    ),
)


def named(name: str, *, after_of: bool = False) -> Msg:
    """A diluent or solvent name as a message (translated where the catalogue knows it)."""
    return Msg(name, context=OF if after_of else "")


def measurable(volume_ml: Decimal) -> Decimal:
    """A volume as it can be measured: 0.01 ml under 1 ml, 0.1 ml under 10 ml, else 1 ml."""
    if volume_ml < 1:
        step = Decimal("0.01")
    elif volume_ml < 10:
        step = Decimal("0.1")
    else:
        step = Decimal(1)
    return volume_ml.quantize(step, rounding=ROUND_HALF_UP)


def amount(mass: Mass, unit: str | None = None) -> Quantity:
    """1.05 µg: in `unit` (else the largest unit ≥ 1), 2 decimals under 10, else 1."""
    shown = mass.to(unit) if unit else mass.best_unit()
    places = Decimal("0.01") if abs(shown.amount) < 10 else Decimal("0.1")
    return Quantity(tidy(shown.amount.quantize(places, rounding=ROUND_HALF_UP)), shown.unit)


def amount_text(mass: Mass, unit: str | None = None) -> str:
    """'1.05 µg', in English: `amount` as the API writes it."""
    shown = amount(mass, unit)
    return f"{shown.amount:f} {UNIT_LABELS[shown.unit]}"


def display_unit(mass: Mass) -> str:
    return mass.best_unit().unit


def _significant(value: Decimal, digits: int = 3) -> Decimal:
    if value == 0:
        return Decimal(0)
    exponent = value.adjusted() - digits + 1
    return tidy(value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP))


def _ml(value: Decimal) -> Quantity:
    return Quantity(tidy(value), "ml")


@dataclass(frozen=True)
class Opened:
    """Containers of one presentation to open for a dose (and, on pages, the lot to take)."""

    presentation_id: int | str
    label: str
    strength: Mass
    container: str  # "vial" or "ampoule"
    count: int
    lot: dict | None = None  # {"lot_number", "expiry_date", "location"} — a suggestion

    def describe(self) -> Msg:
        strength = amount(self.strength, self.strength.unit)
        if self.container == "vial":
            return ngettext(
                "%(count)s × %(strength)s vial", "%(count)s × %(strength)s vials", self.count,
                strength=strength,
            )  # fmt: skip
        if self.container == "ampoule":
            return ngettext(
                "%(count)s × %(strength)s ampoule", "%(count)s × %(strength)s ampoules",
                self.count, strength=strength,
            )  # fmt: skip
        return ngettext(
            "%(count)s × %(strength)s container", "%(count)s × %(strength)s containers",
            self.count, strength=strength,
        )  # fmt: skip

    def the_one(self) -> Msg:
        """'the 100 mg vial' (the one a suggested lot is for)."""
        strength = amount(self.strength, self.strength.unit)
        if self.container == "vial":
            return _("the %(strength)s vial", strength=strength)
        if self.container == "ampoule":
            return _("the %(strength)s ampoule", strength=strength)
        return _("the %(strength)s container", strength=strength)


@dataclass
class Preparation:
    route: str
    containers: list[Opened]
    total: Mass
    dose: Mass
    solvent: str = ""
    solvent_ml_per_container: Decimal | None = None
    made_up_to_ml: Decimal | None = None  # Betaleukin IV's intermediate 100 ml
    transfer_volume_ml: Decimal | None = None  # of the 100 ml, added to the bag
    diluent: str = ""
    diluent_volume_ml: Decimal | None = None
    final_volume_ml: Decimal = Decimal(0)
    concentration: Mass = field(default_factory=lambda: Mass(Decimal(0)))  # per ml of final
    give_volume_ml: Decimal = Decimal(0)
    discard_volume_ml: Decimal = Decimal(0)
    delivered: Mass = field(default_factory=lambda: Mass(Decimal(0)))
    drip_rate_drops_per_min: int | None = None
    infusion_minutes: int | None = None
    infusion_minutes_range: tuple[int | None, int | None] = (None, None)
    steps: list[Msg] = field(default_factory=list)
    silent: list[Msg] = field(default_factory=list)
    source: Citation | None = None
    when: Msg | None = None

    @property
    def rounding_percent(self) -> Decimal:
        return ((self.delivered.ng - self.dose.ng) / self.dose.ng * 100).quantize(Decimal("0.1"))

    @property
    def rounding_note(self) -> Msg | None:
        percent = self.rounding_percent
        if abs(percent) <= ROUNDING_SHOWN_ABOVE_PERCENT:
            return None
        unit = display_unit(self.dose)
        return _(
            "Rounding the volume to what can be measured gives %(delivered)s instead of "
            "%(dose)s (%(percent)s%%).",
            delivered=amount(self.delivered, unit),
            dose=amount(self.dose, unit),
            percent=Number(percent, signed=True),
        )

    @property
    def ml_per_hour(self) -> Decimal | None:
        if not self.infusion_minutes:
            return None
        return (self.give_volume_ml * 60 / self.infusion_minutes).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )

    def concentration_shown(self) -> Quantity:
        """Per ml of the final volume, in the containers' unit (a smaller one under 0.1), to 3
        significant digits."""
        value = self.concentration
        unit = self.containers[0].strength.unit if self.containers else value.unit
        shown = value.to(unit)
        while shown.amount < Decimal("0.1") and shown.unit != "ng":
            shown = shown.to({"mg": "ug", "ug": "ng"}[shown.unit])
        return Quantity(_significant(shown.amount), f"{shown.unit}/ml")

    def concentration_dict(self, render: Renderer = ENGLISH) -> dict:
        shown = self.concentration_shown()
        return {"value": str(shown.amount), "unit": shown.unit, "label": render(shown)}

    def as_dict(self, render: Renderer = ENGLISH) -> dict:
        """The preparation as the API shows it; its sentences written by `render` (English with
        the point unless a `LocaleRenderer` is given), every numeric field with the point."""
        unit = display_unit(self.dose)
        note = self.rounding_note
        return {
            "route": self.route,
            "containers": [
                {
                    "presentation_id": opened.presentation_id,
                    "label": opened.label,
                    "container": opened.container,
                    "strength": {
                        "value": str(tidy(opened.strength.amount)),
                        "unit": opened.strength.unit,
                    },
                    "count": opened.count,
                    "text": render(opened.describe()),
                    "solvent": render(named(self.solvent)) if self.solvent else "",
                    "solvent_ml": (
                        str(self.solvent_ml_per_container)
                        if self.solvent_ml_per_container is not None
                        else None
                    ),
                    "suggested_lot": opened.lot,
                }
                for opened in self.containers
            ],
            "made_up_to_ml": _str(self.made_up_to_ml),
            "transfer_volume_ml": _str(self.transfer_volume_ml),
            "diluent": self.diluent,
            "diluent_volume_ml": _str(self.diluent_volume_ml),
            "final_volume_ml": _str(self.final_volume_ml),
            "concentration": self.concentration_dict(render),
            "give_volume_ml": _str(self.give_volume_ml),
            "discard_volume_ml": _str(self.discard_volume_ml),
            "dose_delivered": {
                "value": str(tidy(self.delivered.to(unit).amount)),
                "unit": unit,
                "label": render(amount(self.delivered, unit)),
            },
            "rounding_percent": str(self.rounding_percent),
            "rounding_note": render(note) if note else "",
            "rounding_rule": render(ROUNDING_RULE),
            "drip_rate_drops_per_min": self.drip_rate_drops_per_min,
            "infusion_minutes": self.infusion_minutes,
            "infusion_minutes_range": list(self.infusion_minutes_range),
            "ml_per_hour": _str(self.ml_per_hour),
            "steps": [render(step) for step in self.steps],
            "silent": [render(line) for line in self.silent],
            "when": render(self.when) if self.when else "",
            "source": self.source.as_dict() if self.source else None,
        }


def _str(value: Decimal | None) -> str | None:
    return None if value is None else f"{tidy(value):f}"


class PreparationError(ValueError):
    pass


def preparation_for(
    *,
    product: str,
    route: str,
    dose: Mass,
    containers: Sequence[Opened],
    diluent: str = "",
    diluent_volume_ml: Decimal | None = None,
    drip_rate_drops_per_min: int | None = None,
    infusion_minutes: int | None = None,
    infusion_minutes_range: tuple[int | None, int | None] = (None, None),
) -> Preparation:
    """The preparation of one dose of `product` by `route` from the opened `containers`.

    `diluent` is the diluent's name as shown ("0.9% sodium chloride"); `diluent_volume_ml` the
    protocol's volume (200 ml bag, 500 ml bag, or the solvent per ampoule for sc).
    """
    if not containers:
        raise PreparationError("A dose needs at least one container.")
    total = Mass(Decimal(0), dose.unit)
    for opened in containers:
        total = total + opened.strength * opened.count
    if total < dose:
        raise PreparationError("The opened containers hold less than the dose.")
    prep = Preparation(
        route=route,
        containers=list(containers),
        total=total,
        dose=dose,
        diluent=diluent,
        diluent_volume_ml=diluent_volume_ml,
        drip_rate_drops_per_min=drip_rate_drops_per_min,
        infusion_minutes=infusion_minutes,
        infusion_minutes_range=infusion_minutes_range,
        when=WHEN_TO_PREPARE.get(product),
    )
    methods = {"iv_drip": _iv_drip, "iv_infusion": _iv_infusion, "sc": _sc}
    if route not in methods:
        raise PreparationError(f"No preparation method for route {route!r}.")
    methods[route](prep, product)
    return prep


def _share(prep: Preparation, made_up_ml: Decimal) -> tuple[Decimal, Decimal, Mass]:
    """(volume holding the dose, rounded; volume left; amount in the rounded volume)."""
    per_ml = Mass(prep.total.ng / made_up_ml, "ng")
    if prep.total == prep.dose:
        volume = made_up_ml
    else:
        volume = min(measurable(prep.dose.ng / per_ml.ng), made_up_ml)
    return volume, made_up_ml - volume, Mass(per_ml.ng * volume, "ng").to(prep.dose.unit)


def _taken(prep: Preparation) -> Msg:
    return _(
        "Take %(containers)s (%(total)s in all).",
        containers=Joined(tuple(opened.describe() for opened in prep.containers)),
        total=amount(prep.total),
    )


def _lots_text(prep: Preparation) -> list[Msg]:
    lines = []
    for opened in prep.containers:
        if opened.lot:
            location = opened.lot.get("location")
            lines.append(
                _(
                    "Suggested: lot %(lot)s (expires %(expiry)s)%(where)s for %(container)s; "
                    "scan the one you take.",
                    lot=opened.lot["lot_number"],
                    expiry=Day.of(opened.lot["expiry_date"]),
                    where=_(" in %(location)s", location=location) if location else "",
                    container=opened.the_one(),
                )
            )
    return lines


def _delivered(prep: Preparation) -> Quantity:
    return amount(prep.delivered, display_unit(prep.dose))


def _contents_of(prep: Preparation) -> Msg:
    """'each vial', 'the ampoule', …: Ukrainian declines them after "the contents of"."""
    first = prep.containers[0]
    each = len(prep.containers) > 1 or first.count > 1
    kind = "container" if len(prep.containers) > 1 else first.container
    known = {
        ("vial", False): pgettext("the contents of …", "the vial"),
        ("vial", True): pgettext("the contents of …", "each vial"),
        ("ampoule", False): pgettext("the contents of …", "the ampoule"),
        ("ampoule", True): pgettext("the contents of …", "each ampoule"),
        ("container", False): pgettext("the contents of …", "the container"),
        ("container", True): pgettext("the contents of …", "each container"),
    }
    return known.get((kind, each)) or Msg(f"{'each' if each else 'the'} {kind}")


def _iv_drip(prep: Preparation, product: str) -> None:
    prep.source = LEAFLET_PREPARATION.get(product)
    bag = prep.diluent_volume_ml or Decimal(200)
    prep.solvent = prep.diluent
    prep.final_volume_ml = bag
    give, discard, delivered = _share(prep, bag)
    prep.give_volume_ml, prep.discard_volume_ml, prep.delivered = give, discard, delivered
    prep.concentration = Mass(prep.total.ng / bag, "ng")
    prep.steps = [
        _taken(prep),
        *_lots_text(prep),
        _(
            "Dissolve the contents of %(what)s in one %(bag)s bag of %(diluent)s: "
            "%(concentration)s.",
            what=_contents_of(prep),
            bag=_ml(bag),
            diluent=named(prep.diluent or "the diluent", after_of=True),
            concentration=prep.concentration_shown(),
        ),
    ]
    if discard:
        prep.steps.append(
            _(
                "Remove and discard %(discard)s from the bag: %(give)s remain, holding %(amount)s.",
                discard=_ml(discard),
                give=_ml(give),
                amount=_delivered(prep),
            )
        )
    # English says "drops" for every rate; Ukrainian's three forms follow the number.
    prep.steps.append(
        ngettext(
            "Give %(volume)s by intravenous drip at %(count)s drops per minute.",
            "Give %(volume)s by intravenous drip at %(count)s drops per minute.",
            prep.drip_rate_drops_per_min or 30,
            volume=_ml(give),
        )
    )
    prep.silent = [
        _("The leaflet names no separate solvent: the powder is dissolved in the infusion bag."),
        _(
            "The leaflet gives no infusion time: at 30 drops per minute it depends on the giving "
            "set's drop factor."
        ),
        _("The leaflet gives no time the made-up solution keeps."),
    ]
    if sum(opened.count for opened in prep.containers) > 1:
        prep.silent.append(
            _(
                "The leaflet speaks of one vial or ampoule in 200 ml: several are dissolved in the "
                "same 200 ml (design.md)."
            )
        )


def _iv_infusion(prep: Preparation, product: str) -> None:
    prep.source = LEAFLET_PREPARATION["betaleukin_iv"]
    prep.solvent = "sterile 0.9% sodium chloride or water for injection"
    prep.solvent_ml_per_container = BETALEUKIN_IV_SOLVENT_ML
    prep.made_up_to_ml = BETALEUKIN_IV_MADE_UP_TO_ML
    transfer, discard, delivered = _share(prep, BETALEUKIN_IV_MADE_UP_TO_ML)
    bag = prep.diluent_volume_ml or Decimal(500)
    prep.transfer_volume_ml = transfer
    prep.final_volume_ml = bag + transfer
    # The whole bag is given: the dose is in it, and the 500 ml is the leaflet's vehicle.
    prep.give_volume_ml = prep.final_volume_ml
    prep.discard_volume_ml = discard
    prep.delivered = delivered
    prep.concentration = Mass(delivered.ng / prep.final_volume_ml, "ng")
    per_ml_100 = Mass(prep.total.ng / BETALEUKIN_IV_MADE_UP_TO_ML, "ng")
    intermediate = Preparation(
        route=prep.route, containers=prep.containers, total=prep.total, dose=prep.dose
    )
    intermediate.concentration = per_ml_100
    diluent = named(prep.diluent or "0.9% sodium chloride or 5% dextrose", after_of=True)
    count = sum(opened.count for opened in prep.containers)
    if count > 1:
        dissolve = _(
            "Immediately before use dissolve each ampoule in %(volume)s of sterile 0.9%% sodium "
            "chloride or water for injection.",
            volume=_ml(BETALEUKIN_IV_SOLVENT_ML),
        )
        make_up = _(
            "Make up to 100 ml with 0.9%% sodium chloride (all ampoules together): "
            "%(concentration)s.",
            concentration=intermediate.concentration_shown(),
        )
    else:
        dissolve = _(
            "Immediately before use dissolve the ampoule in %(volume)s of sterile 0.9%% sodium "
            "chloride or water for injection.",
            volume=_ml(BETALEUKIN_IV_SOLVENT_ML),
        )
        make_up = _(
            "Make up to 100 ml with 0.9%% sodium chloride: %(concentration)s.",
            concentration=intermediate.concentration_shown(),
        )
    if discard:
        add = _(
            "Draw %(transfer)s of this solution (%(amount)s) and add it to the %(bag)s bag of "
            "%(diluent)s; discard the remaining %(discard)s.",
            transfer=_ml(transfer),
            amount=_delivered(prep),
            bag=_ml(bag),
            diluent=diluent,
            discard=_ml(discard),
        )
    else:
        add = _(
            "Add all 100 ml (%(amount)s) to the %(bag)s bag of %(diluent)s.",
            amount=_delivered(prep),
            bag=_ml(bag),
            diluent=diluent,
        )
    whole = _ml(prep.final_volume_ml)
    if prep.infusion_minutes and prep.ml_per_hour:
        infuse = _(
            "Infuse the whole bag (%(volume)s) intravenously over %(minutes)s minutes, about "
            "%(rate)s ml/h.",
            volume=whole,
            minutes=prep.infusion_minutes,
            rate=Number(prep.ml_per_hour),
        )
    elif prep.infusion_minutes:
        infuse = _(
            "Infuse the whole bag (%(volume)s) intravenously over %(minutes)s minutes.",
            volume=whole,
            minutes=prep.infusion_minutes,
        )
    else:
        infuse = _(
            "Infuse the whole bag (%(volume)s) intravenously over 120–180 minutes (as prescribed).",
            volume=whole,
        )
    prep.steps = [_taken(prep), *_lots_text(prep), dissolve, make_up, add, infuse]
    prep.silent = [
        _(
            "The leaflet gives no rate in ml/h, only the duration (120–180 min); ml/h is the bag's "
            "volume over the prescribed minutes."
        ),
    ]
    if count > 1:
        prep.silent.append(
            _(
                "The leaflet describes one ampoule: several are each dissolved in 1 ml and made up "
                "to 100 ml together."
            )
        )


def _sc(prep: Preparation, product: str) -> None:
    prep.source = LEAFLET_PREPARATION["betaleukin_sc"]
    count = sum(opened.count for opened in prep.containers)
    prep.solvent = prep.diluent or "sterile 0.9% sodium chloride or water for injection"

    # "dissolved in 0.5-1 ml": of the leaflet's two bounds, the one whose measurable share is
    # closest to the dose; 0.5 ml (the smaller injection) on a tie.
    def error(per_container: Decimal) -> Decimal:
        return abs(_share(prep, per_container * count)[2].ng - prep.dose.ng)

    per_container = min(SC_SOLVENT_ML, key=error)
    prep.solvent_ml_per_container = per_container
    made_up = per_container * count
    prep.final_volume_ml = made_up
    give, discard, delivered = _share(prep, made_up)
    prep.give_volume_ml, prep.discard_volume_ml, prep.delivered = give, discard, delivered
    prep.concentration = Mass(prep.total.ng / made_up, "ng")
    prep.diluent_volume_ml = None
    solvent = named(prep.solvent, after_of=True)
    if count > 1:
        dissolve = _(
            "Dissolve each ampoule in %(volume)s of %(solvent)s and combine (%(total)s in all): "
            "%(concentration)s.",
            volume=_ml(per_container),
            solvent=solvent,
            total=_ml(made_up),
            concentration=prep.concentration_shown(),
        )
    else:
        dissolve = _(
            "Dissolve the ampoule in %(volume)s of %(solvent)s: %(concentration)s.",
            volume=_ml(per_container),
            solvent=solvent,
            concentration=prep.concentration_shown(),
        )
    if discard:
        draw = _(
            "Draw %(volume)s (%(amount)s) into the syringe; discard the remaining %(discard)s.",
            volume=_ml(give),
            amount=_delivered(prep),
            discard=_ml(discard),
        )
    else:
        draw = _(
            "Draw %(volume)s (%(amount)s) into the syringe.",
            volume=_ml(give),
            amount=_delivered(prep),
        )
    prep.steps = [
        _taken(prep),
        *_lots_text(prep),
        dissolve,
        draw,
        _("Inject %(volume)s subcutaneously.", volume=_ml(give)),
    ]
    prep.silent = [
        _(
            "The leaflet allows 0.5–1 ml per ampoule: the bound that measures the dose most "
            "exactly is used (0.5 ml when both do equally well)."
        ),
        _("The leaflet gives no injection site and no time the solution keeps."),
    ]
    if count > 1:
        prep.silent.append(
            _("The leaflet describes one ampoule: several are each dissolved and combined.")
        )
