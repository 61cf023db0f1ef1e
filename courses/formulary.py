"""The formulary, encoded from the three leaflets in `shared/seeds/`.

Every protocol cites its leaflet file and section and quotes the leaflet's words; where the text
is garbled or leaves a choice, `reading_note` records the reading adopted (design.md's readings,
otherwise the safer one). `load_formulary` loads this idempotently, matching rows by `code`.

Conventions:
- doses are Decimal strings; `dose_unit` is mg (fixed or age band), mg/kg or ng/kg;
- a phase's `patterns` are the schedule choices the label allows; the prescriber picks one;
- `count_min`/`count_max` are the injections in the phase (None = set by an anchor period);
- ages are completed months; `max_age_months` is exclusive (adults = 216 months, 18 years);
  an age limit is set only where the leaflet states one (`PRODUCT_MIN_AGE` for a product's own);
- `leaflet_notes` is leaflet information shown with the protocol and its courses (co-therapy,
  driving, List B), each citing its leaflet line.
"""

from django.utils.translation import gettext_noop

BIOCERULIN_FILE = "000_8232d45ecd8856fc.txt"
CERULOPLASMIN_FILE = "001_a9dd8020501fd367.txt"
BETALEUKIN_FILE = "002_9eae8ef8f93c6d59.txt"

ADULT_MONTHS = 216

# A product's own lower age limit, named as the leaflet names it on every protocol of the product
# (courses/checks.py), whatever the protocol's population: Ceruloplasmin leaflet line 58, "they
# are not used in infants for up to 6 months".
PRODUCT_MIN_AGE = {
    "ceruloplasmin": {
        "months": 6,
        "message": gettext_noop("Ceruloplasmin is not used in infants up to 6 months of age"),
        "leaflet_file": CERULOPLASMIN_FILE,
        "section": "contraindications (line 58: 'not used in infants for up to 6 months')",
    },
}


def _note(code: str, text: str, leaflet_file: str, section: str, line: int) -> dict:
    """Leaflet information the checks do not act on but prescriber and ward must see. The text is
    stored in English and marked here for the catalogue: pages show it translated by its msgid
    (an edited text, having none, is shown as stored)."""
    return {
        "code": code,
        "text": text,
        "leaflet_file": leaflet_file,
        "section": section,
        "line": line,
    }


# Biocerulin line 34: "The ability to influence the reaction rate when driving vehicles …".
DRIVING_NOTE = _note(
    "driving",
    gettext_noop(
        "Adverse reactions may slow the reaction rate: caution when driving vehicles or "
        "working with machinery."
    ),
    BIOCERULIN_FILE,
    "Ability to influence the reaction rate when driving",
    34,
)
# Betaleukin line 60: "List B. The drug must be stored and transported …".
LIST_B_NOTE = _note(
    "list_b",
    gettext_noop("List B (potent substance): store, account for and hand out as a List B drug."),
    BETALEUKIN_FILE,
    "Conditions and terms of (storage)",
    60,
)
# Ceruloplasmin line 53: "Together with used iron drugs (taking into account the level of
# ferritin and iron inside the serum) additionally apply Ceruloplasmin …".
IRON_NOTE = _note(
    "iron_cotherapy",
    gettext_noop(
        "Given together with iron preparations, dosed on serum ferritin and iron; Ceruloplasmin "
        "is added to the iron treatment, not given instead of it."
    ),
    CERULOPLASMIN_FILE,
    "Use of the ceruloplasmin during pregnancy",
    53,
)
# Ceruloplasmin line 88: "… every day when performing antibacterial treatment".
ANTIBACTERIAL_NOTE = _note(
    "antibacterial_cotherapy",
    gettext_noop(
        "Given on the days of antibacterial treatment: the course accompanies the antibiotics."
    ),
    CERULOPLASMIN_FILE,
    "Dosing and administration — In the treatment of children (purulent-surgical pathology)",
    88,
)

DAILY = {"kind": "daily"}
EVERY_OTHER_DAY = {"kind": "every_n_days", "n": 2}
THREE_PER_WEEK = {"kind": "per_week", "k": 3}
WEEKLY = {"kind": "weekly"}
BETALEUKIN_CYCLES = {"kind": "cycles", "on_days": 5, "rest_days": 14}

PRODUCTS = [
    {
        "code": "biocerulin",
        "name": "Biocerulin",
        "active_substance": "Ceruloplasmin (human plasma glycoprotein)",
        "pharmaceutical_form": "Lyophilisate for solution for intravenous infusion",
        "storage_min_c": "2.0",
        "storage_max_c": "8.0",
        "keep_dry": True,
        "shelf_life_months": 24,
        "sodium_mg_per_dose": "46.0",
        "protein_origin": True,
        # Line 22: "contraindicated in case of hypersensitivity to drugs of protein origin".
        "contraindications": ["hypersensitivity_protein_drugs"],
        "warnings": [
            "Contains 46 mg sodium per dose: take care in patients on a sodium-controlled diet.",
            "With high-dose corticosteroids (risk of steroid diabetes) dissolve in 0.9% sodium "
            "chloride, not 5% glucose.",
            "Do not mix with other drugs.",
            "Hot flushes, nausea, chills, fever, urticaria: reduce the dose and the infusion rate "
            "or stop; reactions are mostly linked to a fast infusion.",
            "Not to be given to children, in pregnancy or during lactation (not investigated).",
        ],
        "leaflet_file": BIOCERULIN_FILE,
        "leaflet_section": "Storage conditions; special instructions; Children; Use during "
        "pregnancy or lactation",
    },
    {
        "code": "ceruloplasmin",
        "name": "Ceruloplasmin",
        "active_substance": "Ceruloplasmin (human serum α-globulin glycoprotein)",
        "pharmaceutical_form": "Lyophilisate for solution for intravenous administration, 0.1 g",
        "storage_min_c": "2.0",
        "storage_max_c": "8.0",
        "keep_dry": False,
        "shelf_life_months": 24,
        "sodium_mg_per_dose": None,
        "protein_origin": True,
        # Line 58: "contraindicated to use in case of human intolerance of drugs that are
        # protein-like" (the under-6-months limit is PRODUCT_MIN_AGE below).
        "contraindications": ["hypersensitivity_protein_drugs"],
        "warnings": [
            "Nausea, facial flushing, urticaria, chills, transient fever early in use: lower the "
            "dose and the rate of administration, or stop.",
            "Not in the first trimester of pregnancy, during lactation, or under 6 months of age.",
        ],
        "leaflet_file": CERULOPLASMIN_FILE,
        "leaflet_section": "Storage conditions; Shelf life; Side effects of the ceruloplasmin",
    },
    {
        "code": "betaleukin",
        "name": "Betaleukin",
        "active_substance": "Interleukin-1β (recombinant human)",
        "pharmaceutical_form": "Powder for injection (stabiliser: low-molecular PVP)",
        "storage_min_c": None,
        "storage_max_c": "15.0",
        "keep_dry": False,
        "shelf_life_months": 24,
        "sodium_mg_per_dose": None,
        "protein_origin": True,
        # Lines 40–42: "hypersensitivity to the drug; septic shock; severe fever" — the drug
        # itself, not protein drugs as a class (an allergy recorded against Betaleukin).
        "contraindications": ["hypersensitivity_to_drug", "septic_shock", "severe_fever"],
        "warnings": [
            "Fever, headache and raised temperature for 2–3 h after injection are expected and "
            "are not a reason to stop; for severe reactions give paracetamol, metamizole sodium, "
            "diphenhydramine or a combination, or corticosteroids.",
            "Contraindicated in pregnancy.",
        ],
        "leaflet_file": BETALEUKIN_FILE,
        "leaflet_section": "Conditions and terms of; Side effect; contraindications",
    },
]

# Leaflet 002, "Release form, composition and packing": "Powder for injection 1 amp. / 1 fl.
# interleukin-1β 0.05 mg - - 0.5 mg - - 1 mg."
BETALEUKIN_STRENGTH_QUOTE = (
    "Powder for injection 1 amp. / 1 fl. interleukin-1β 0.05 mg - - 0.5 mg - - 1 mg."
)
BETALEUKIN_STRENGTH_READING = (
    "Read as 0.05 µg, 0.5 µg and 1 µg per ampoule (design.md), not mg: the registered "
    "Betaleukin labels state µg (мкг), and only µg fits the leaflet's own doses — 15–20 ng/kg "
    "× 70 kg = 1.05–1.4 µg, whereas with mg ampoules every dose would be 1–3 % of the smallest "
    "ampoule and the IV dilution would deliver a thousandth of the dose. Pack of 5 ampoules "
    "(design.md; the leaflet gives no pack size)."
)
# Rows loaded under the earlier (mg) reading, renamed in place by `formulary_load` so that lots
# received against them keep their presentation (the physical ampoules were µg all along).
PRESENTATION_RENAMES = {
    "betaleukin-0.05mg-ampoule": "betaleukin-0-05ug-ampoule-5",
    "betaleukin-0.5mg-ampoule": "betaleukin-0-5ug-ampoule-5",
    "betaleukin-1mg-ampoule": "betaleukin-1ug-ampoule-5",
}
# Reading notes per presentation, shown to pharmacists on the formulary page.
PRESENTATION_READINGS = {
    "betaleukin-0-05ug-ampoule-5": BETALEUKIN_STRENGTH_READING,
    "betaleukin-0-5ug-ampoule-5": BETALEUKIN_STRENGTH_READING,
    "betaleukin-1ug-ampoule-5": BETALEUKIN_STRENGTH_READING,
    "biocerulin-100mg-vial-5": "Leaflet 000 names a vial or ampoule but no strength: 100 mg "
    "from design.md and the Ceruloplasmin label (same substance, 0.1 g per vial or ampoule).",
    "biocerulin-100mg-ampoule-10": "Leaflet 000 names a vial or ampoule but no strength: 100 mg "
    "from design.md and the Ceruloplasmin label (same substance, 0.1 g per vial or ampoule).",
}

# Biocerulin's leaflet gives no strength; design.md and the Ceruloplasmin label (same substance,
# "Release form": 0.1 g per vial or ampoule, 5 vials or 10 ampoules a pack) give 100 mg.
PRESENTATIONS = [
    {
        "code": "biocerulin-100mg-vial-5",
        "product": "biocerulin",
        "strength": "100",
        "strength_unit": "mg",
        "container": "vial",
        "pack_size": 5,
        "leaflet_section": "design.md (leaflet 000 names vial or ampoule, no strength)",
    },
    {
        "code": "biocerulin-100mg-ampoule-10",
        "product": "biocerulin",
        "strength": "100",
        "strength_unit": "mg",
        "container": "ampoule",
        "pack_size": 10,
        "leaflet_section": "design.md (leaflet 000 names vial or ampoule, no strength)",
    },
    {
        "code": "ceruloplasmin-100mg-vial-5",
        "product": "ceruloplasmin",
        "strength": "100",
        "strength_unit": "mg",
        "container": "vial",
        "pack_size": 5,
        "leaflet_section": "Release form",
    },
    {
        "code": "ceruloplasmin-100mg-ampoule-10",
        "product": "ceruloplasmin",
        "strength": "100",
        "strength_unit": "mg",
        "container": "ampoule",
        "pack_size": 10,
        "leaflet_section": "Release form",
    },
    # Betaleukin: see BETALEUKIN_STRENGTH_READING — µg, not the leaflet's garbled "mg".
    *(
        {
            # A slug: "0-05ug", not "0.05ug" (a dot is not a slug character).
            "code": f"betaleukin-{strength.replace('.', '-')}ug-ampoule-5",
            "product": "betaleukin",
            "strength": strength,
            "strength_unit": "ug",
            "container": "ampoule",
            "pack_size": 5,
            "leaflet_section": "Release form, composition and packing (strength in µg: "
            "design.md reading)",
        }
        for strength in ("0.05", "0.5", "1")
    ),
]


def _phase(dose_min, dose_max, unit, patterns, count_min, count_max, **extra) -> dict:
    basis = "per_kg" if unit.endswith("/kg") else "fixed"
    return {
        "name": "",
        "dose_basis": basis,
        "dose_min": dose_min,
        "dose_max": dose_max,
        "dose_unit": unit,
        "age_bands": [],
        "patterns": patterns,
        "count_min": count_min,
        "count_max": count_max,
        "cycles_min": None,
        "cycles_max": None,
        **extra,
    }


# Shared preparation and limits of each label (a protocol entry overrides what differs).
_BIOCERULIN = {
    "product": "biocerulin",
    "population": "adult",
    "leaflet_file": BIOCERULIN_FILE,
    "route": "iv_drip",
    "diluent_options": ["glucose_5", "nacl_0_9"],
    "diluent_volume_ml": "200",
    "preparation_note": gettext_noop(
        # xgettext:no-python-format
        "Dilute the contents of the vial or ampoule in 200 ml of 5% glucose or 0.9% sodium "
        "chloride; drip at 30 drops per minute."
    ),
    "drip_rate_drops_per_min": 30,
    "infusion_minutes_min": None,
    "infusion_minutes_max": None,
    "min_age_months": ADULT_MONTHS,
    "max_age_months": None,  # "should not be prescribed" to children
    "requires_pregnancy": False,
    "pregnancy_trimesters_allowed": [],
    "lactation_allowed": False,
    "min_wbc_10e9_per_l": None,
    "course_total_min": None,
    "course_total_max": None,
    "course_total_unit": "",
    "anchors": [],
    "reading_note": "",
    "leaflet_notes": [DRIVING_NOTE],
}
_CERULOPLASMIN = {
    **_BIOCERULIN,
    "product": "ceruloplasmin",
    "leaflet_file": CERULOPLASMIN_FILE,
    "diluent_options": ["nacl_0_9", "glucose_5"],
    "preparation_note": gettext_noop(
        # xgettext:no-python-format
        "Dissolve the contents of the ampoule or vial in 200 ml of 0.9% sodium chloride or 5% "
        "glucose; inject intravenously at 30 drops per minute."
    ),
    # "Use … during pregnancy": 2nd and 3rd trimesters allowed; 1st trimester and lactation not.
    "pregnancy_trimesters_allowed": [2, 3],
    "leaflet_notes": [],
}
_CERULOPLASMIN_CHILD = {
    **_CERULOPLASMIN,
    "population": "child",
    "min_age_months": 6,
    "max_age_months": ADULT_MONTHS,
    "leaflet_section": "Dosing and administration — In the treatment of children",
    "reading_note": "Children receive the fixed age-band dose (6–12 months 50 mg, 1–12 years "
    "100 mg, 13–18 years 200 mg); not under 6 months (contraindications).",
}
_BETALEUKIN = {
    **_BIOCERULIN,
    "product": "betaleukin",
    "leaflet_file": BETALEUKIN_FILE,
    "leaflet_section": "Dosing regimen; Rules for the preparation of solutions",
    "min_age_months": None,
    "pregnancy_trimesters_allowed": [],
    # The heading is "Pregnancy and lactation" but only pregnancy is contraindicated.
    "lactation_allowed": True,
    "drip_rate_drops_per_min": None,
    "leaflet_notes": [LIST_B_NOTE],
}
_BETALEUKIN_IV = {
    **_BETALEUKIN,
    "route": "iv_infusion",
    "diluent_options": ["nacl_0_9", "glucose_5"],
    "diluent_volume_ml": "500",
    "infusion_minutes_min": 120,
    "infusion_minutes_max": 180,
    "preparation_note": gettext_noop(
        # xgettext:no-python-format
        "Immediately before use dissolve the ampoule (vial) in 1 ml of sterile 0.9% sodium "
        "chloride or water for injection and make up to 100 ml with 0.9% sodium chloride; add "
        "the volume holding the calculated dose to 500 ml of 0.9% sodium chloride or 5% "
        "dextrose. Infuse over 120–180 minutes."
    ),
}
_BETALEUKIN_SC = {
    **_BETALEUKIN,
    "route": "sc",
    "diluent_options": ["nacl_0_9", "water"],
    "diluent_volume_ml": "1",
    "preparation_note": gettext_noop(
        # xgettext:no-python-format
        "Dissolve the ampoule (vial) in 0.5–1 ml of sterile 0.9% sodium chloride or water for "
        "injection; inject subcutaneously."
    ),
}
_BETALEUKIN_CYCLE_NOTE = (
    "'Course of treatment – 5 daily … If necessary to repeat treatments at intervals of 2 weeks': "
    "cycles of 5 daily doses separated by 14 dose-free days (days 1–5, 20–24, 39–43 …); the "
    "number of cycles is prescribed (the label sets no maximum)."
)


def _betaleukin(code, indication, route_base, dose_min, dose_max, sort_order, **extra) -> dict:
    return {
        **route_base,
        "code": code,
        "indication": indication,
        "sort_order": sort_order,
        "phases": [
            _phase(
                dose_min,
                dose_max,
                "ng/kg",
                [BETALEUKIN_CYCLES],
                5,
                None,
                cycles_min=1,
                cycles_max=None,
            )
        ],
        **extra,
    }


_LEUKOPOIESIS_QUOTE = (
    "stimulation leykopoeza with toxic leukopenia 2.4 degree, complicating chemo-and radiotherapy "
    "of malignant tumors … To stimulate leykopoeza drug is used at a dose of 15-20 ng / kg body "
    "weight … Course of treatment - 5 daily drip intravenous infusion or subcutaneous injection. If "
    "necessary to repeat treatments at intervals of 2 weeks. The duration of infusion - 120-180 min."
)
_SUPPORT_QUOTE = (
    "patronage leykopoeza when the need for chemotherapy for leukopenia (leukocyte count of "
    "peripheral blood at least 3h109 / l) … 15-20 ng / kg body weight … 5 daily …"
)
_IMMUNE_QUOTE = (
    "secondary immunodeficiency that develops after severe trauma, extensive surgery, resulting in "
    "septic, purulent-destructive, chronic septic processes … to stimulate the immune system - "
    "5.8 ng / kg body weight. Course of treatment - 5 daily …"
)

PROTOCOLS = [
    # ---------------------------------------------------------------- Biocerulin (leaflet 000)
    {
        **_BIOCERULIN,
        "code": "biocerulin-general",
        "sort_order": 10,
        "indication": gettext_noop(
            "Intoxication, immunoreactivity support and stimulation of haematopoiesis "
            "(usual regimen)"
        ),
        "leaflet_section": "Dosage and administration, ¶2 ('A single dose is usually 60-100 mg')",
        "leaflet_quote": "A single dose is usually 60-100 mg daily or every other day, depending "
        "on the condition of the patient. The course of treatment consists of 5 injections. The "
        "total dose is 300-500 mg.",
        "course_total_min": "300",
        "course_total_max": "500",
        "course_total_unit": "mg",
        "phases": [_phase("60", "100", "mg", [DAILY, EVERY_OTHER_DAY], 5, 5)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-preop-oncology",
        "sort_order": 20,
        "indication": gettext_noop("Preoperative preparation of cancer patients"),
        "leaflet_section": "Dosage and administration, ¶3 (preoperative preparation)",
        "leaflet_quote": "To cancer patients during the preoperative preparation, Biocerulin "
        "should be administered at a dose of 0.5 mg / kg body weight daily or every other day. "
        "The course of treatment (taking into account the patients condition) - up to 10 "
        "injections.",
        "reading_note": "'up to 10 injections': 1–10, chosen by the prescriber.",
        "phases": [_phase("0.5", "0.5", "mg/kg", [DAILY, EVERY_OTHER_DAY], 1, 10)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-postop",
        "sort_order": 30,
        "indication": gettext_noop(
            "Early postoperative period (blood loss, purulent-septic complications)"
        ),
        "leaflet_section": "Dosage and administration, ¶3 (postoperative period)",
        "leaflet_quote": "In the postoperative period, the dose of the drug is determined by the "
        "amount of blood loss and ranges from 0.5 mg / kg (with low blood loss) to 1.5 mg / kg "
        "(with large blood loss). Enter daily for 5-8 days.",
        "phases": [_phase("0.5", "1.5", "mg/kg", [DAILY], 5, 8)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-chemotherapy",
        "sort_order": 40,
        "indication": gettext_noop("Complex combined chemotherapy of cancer patients"),
        "leaflet_section": "Dosage and administration, ¶4 (chemotherapy)",
        "leaflet_quote": "During chemotherapy, a single dose is 1-1.5 mg / kg, the course of "
        "treatment is 10-14 injections (3 injections per week).",
        "reading_note": "3 injections per week: days 1, 3, 5 of each 7-day block from the start, "
        "or weekdays chosen by the prescriber.",
        "phases": [_phase("1", "1.5", "mg/kg", [THREE_PER_WEEK], 10, 14)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-hemoblastosis",
        "sort_order": 50,
        "indication": gettext_noop("Chemotherapy of patients with hemoblastosis"),
        "leaflet_section": "Dosage and administration, ¶4 (hemoblastosis)",
        "leaflet_quote": "For patients with hemoblastosis, a single dose is 0.5–1 mg / kg, the "
        "course of treatment is 5–8 injections (daily, 1 time per day).",
        "phases": [_phase("0.5", "1", "mg/kg", [DAILY], 5, 8)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-osteomyelitis-acute",
        "sort_order": 60,
        "indication": gettext_noop("Acute osteomyelitis (complex treatment)"),
        "leaflet_section": "Dosage and administration, ¶4 (acute osteomyelitis)",
        "leaflet_quote": "In acute osteomyelitis, a single dose is 1 mg / kg. The course of "
        "treatment consists of 5 injections, which are prescribed daily or every other day.",
        "phases": [_phase("1", "1", "mg/kg", [DAILY, EVERY_OTHER_DAY], 5, 5)],
    },
    {
        **_BIOCERULIN,
        "code": "biocerulin-osteomyelitis-chronic",
        "sort_order": 70,
        "indication": gettext_noop("Chronic osteomyelitis (complex treatment)"),
        "leaflet_section": "Dosage and administration, ¶4 (chronic osteomyelitis)",
        "leaflet_quote": "In chronic osteomyelitis, the drug is administered 2 mg / kg 2-3 times "
        "with an interval of 1-2 days, and then 1 mg / kg 3-7 times every other day.",
        "reading_note": "2–3 doses 1–2 dose-free days apart (every 2nd or 3rd day), then 3–7 "
        "doses every other day; the second phase starts 2 days after the first phase's last dose.",
        "phases": [
            _phase(
                "2",
                "2",
                "mg/kg",
                [{"kind": "every_n_days", "n": 2}, {"kind": "every_n_days", "n": 3}],
                2,
                3,
                name="loading",
            ),
            _phase("1", "1", "mg/kg", [EVERY_OTHER_DAY], 3, 7, name="continuation"),
        ],
    },
    # ------------------------------------------------------------- Ceruloplasmin (leaflet 001)
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-preop-oncology",
        "sort_order": 10,
        "indication": gettext_noop("Preoperative preparation in oncological pathology"),
        "leaflet_section": "Dosing and administration, ¶2 (preparation for operation)",
        "leaflet_quote": "At oncological pathologies during preparation of the patient for "
        "operation it is necessary to enter a solution at a rate of 1,5-2,0 mg / kg. The "
        "therapeutic course at the same time is 7-10 injections (every day or every other day - "
        "depends on the patient's state of health).",
        "phases": [_phase("1.5", "2", "mg/kg", [DAILY, EVERY_OTHER_DAY], 7, 10)],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-postop",
        "sort_order": 20,
        "indication": gettext_noop(
            "Early postoperative period (blood loss, purulent-septic complications)"
        ),
        "leaflet_section": "Dosing and administration, ¶3 (postoperative period)",
        "leaflet_quote": "During the postoperative period, a single dose is prescribed in "
        "accordance with the size of the blood loss - from 1.5 mg / kg (if the patient has lost "
        "a little blood), and up to 6 mg / kg (in case of severe blood loss). The course is 7-10 "
        "days with daily (once a day) procedure.",
        "phases": [_phase("1.5", "6", "mg/kg", [DAILY], 7, 10)],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-chemotherapy",
        "sort_order": 30,
        "indication": gettext_noop("Complex chemotherapy of cancer"),
        "leaflet_section": "Dosing and administration, ¶4 (chemotherapy)",
        "leaflet_quote": "During the period of chemotherapy, a single dose is 4-6 mg / kg, and "
        "the treatment course includes 10-14 procedures (3 injections for 7 days).",
        "reading_note": "'3 injections for 7 days': days 1, 3, 5 of each 7-day block from the "
        "start, or weekdays chosen by the prescriber.",
        "phases": [_phase("4", "6", "mg/kg", [THREE_PER_WEEK], 10, 14)],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-hemoblastosis",
        "sort_order": 40,
        "indication": gettext_noop("Chemotherapy of patients with hemoblastoses"),
        "leaflet_section": "Dosing and administration, ¶4 (hemoblastoses)",
        "leaflet_quote": "Patients with hemoblastoses have a single dose of 1.5-3 mg / kg, and the "
        "number of injections is 7-10 procedures that are performed once a day every day.",
        "phases": [_phase("1.5", "3", "mg/kg", [DAILY], 7, 10)],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-osteomyelitis-acute",
        "sort_order": 50,
        "indication": gettext_noop("Acute osteomyelitis (additional remedy)"),
        "leaflet_section": "Dosing and administration, ¶5 (acute osteomyelitis)",
        "leaflet_quote": "To eliminate the acute form of osteomyelitis, the size of a single dose "
        "is 2.5 mg / kg, for the course period, 5 procedures are required (every day or every "
        "other day).",
        "phases": [_phase("2.5", "2.5", "mg/kg", [DAILY, EVERY_OTHER_DAY], 5, 5)],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-osteomyelitis-chronic",
        "sort_order": 60,
        "indication": gettext_noop("Chronic osteomyelitis (additional remedy)"),
        "leaflet_section": "Dosing and administration, ¶5 (chronic pathology)",
        "leaflet_quote": "For the treatment of chronic pathology, the solution is required to be "
        "administered at a rate of 5 mg / kg twice / thrice a day, making intervals of 1-2 days, "
        "after which 3-7 procedures with a dose of 2.5 mg / kg (every other day) .",
        "reading_note": "design.md: 'twice/thrice a day, making intervals of 1-2 days' means 2–3 "
        "doses 1–2 dose-free days apart, then 3–7 doses of 2.5 mg/kg every other day (the "
        "Biocerulin leaflet gives the same shape).",
        "phases": [
            _phase(
                "5",
                "5",
                "mg/kg",
                [{"kind": "every_n_days", "n": 2}, {"kind": "every_n_days", "n": 3}],
                2,
                3,
                name="loading",
            ),
            _phase("2.5", "2.5", "mg/kg", [EVERY_OTHER_DAY], 3, 7, name="continuation"),
        ],
    },
    {
        **_CERULOPLASMIN,
        "code": "ceruloplasmin-pregnancy-anaemia",
        "sort_order": 70,
        "population": "pregnancy",
        "requires_pregnancy": True,
        # The pregnancy paragraph (lines 53–55) sets no age: a pregnant adolescent is not barred
        # by an "adult" limit the leaflet does not state (issue 11). Under 6 months still applies
        # through PRODUCT_MIN_AGE.
        "min_age_months": None,
        "leaflet_notes": [IRON_NOTE],
        "indication": gettext_noop(
            "Anaemia in the 2nd and 3rd trimesters of pregnancy (with iron)"
        ),
        "leaflet_section": "Use of the ceruloplasmin during pregnancy",
        "leaflet_quote": "The drug is prescribed for the combined treatment of anemia in the 2nd "
        "and 3rd trimesters. Together with used iron drugs … additionally apply Ceruloplasmin in "
        "the amount of 100 mg (every day to inject the solution by dropping IV in the method for "
        "5 days). It is forbidden to use the solution on the 1 st trimester, and also during "
        "lactation …",
        "phases": [_phase("100", "100", "mg", [DAILY], 5, 5)],
    },
    {
        **_CERULOPLASMIN_CHILD,
        "code": "ceruloplasmin-child-posthaemorrhagic",
        "sort_order": 80,
        "indication": gettext_noop(
            "Children: treatment or prevention of posthaemorrhagic anaemia (surgery)"
        ),
        "leaflet_quote": "When treating or preventing the posthemorrhagic form of anemia (during "
        "surgery), children should be given medication in the period of 2 days before surgery, "
        "intraoperatively, and also within 2-10 days after performing the surgical procedure.",
        "reading_note": _CERULOPLASMIN_CHILD["reading_note"] + " Schedule (design.md): 2 days "
        "before surgery, on the day of surgery, then daily on days 2–10 after: 11 doses.",
        "anchors": ["surgery"],
        "phases": [],  # filled below: the age-band rule is shared by every children's protocol
    },
    {
        **_CERULOPLASMIN_CHILD,
        "code": "ceruloplasmin-child-purulent-surgical",
        "sort_order": 90,
        "indication": gettext_noop(
            "Children: anaemia in purulent-surgical pathology (with antibacterial treatment)"
        ),
        "leaflet_quote": "During therapy or prevention of anemia in children with pathologies of "
        "purulent-surgical type, the solution should be administered in the period of 7-10 days "
        "every day when performing antibacterial treatment.",
        "leaflet_notes": [ANTIBACTERIAL_NOTE],
        "phases": [],
    },
    {
        **_CERULOPLASMIN_CHILD,
        "code": "ceruloplasmin-child-radiation-anaemia",
        "sort_order": 100,
        "indication": gettext_noop("Children with cancer: radiation anaemia during radiotherapy"),
        "leaflet_quote": "Children with cancer pathologies to treat or prevent the development of "
        "radiation form of anemia due to radiation therapy should be administered Ceruloplasmin "
        "once per week during the entire radiotherapy course.",
        "reading_note": _CERULOPLASMIN_CHILD["reading_note"] + " Weekly from the first to the last "
        "day of radiotherapy (both given by the prescriber).",
        "anchors": ["radiotherapy_start", "radiotherapy_end"],
        "phases": [],
    },
    {
        **_CERULOPLASMIN_CHILD,
        "code": "ceruloplasmin-child-toxic-anaemia",
        "sort_order": 110,
        "indication": gettext_noop("Children: toxic anaemia during chemotherapy"),
        "leaflet_quote": "When treating or preventing the appearance of a toxic form of anemia, "
        "the solution is administered throughout the chemotherapy course on the days of the "
        "procedures.",
        "reading_note": _CERULOPLASMIN_CHILD["reading_note"] + " One dose on each chemotherapy "
        "day given by the prescriber.",
        "anchors": ["chemotherapy_dates"],
        "phases": [],
    },
    {
        **_CERULOPLASMIN_CHILD,
        "code": "ceruloplasmin-child-chemoradiation-anaemia",
        "sort_order": 120,
        "indication": gettext_noop(
            "Children: anaemia from chemoradiation (radiation or toxic form)"
        ),
        "leaflet_quote": "Treatment or prophylaxis of anemia resulting from chemoradiation "
        "procedures (radiation or toxic form) is administered once a week on the day of the "
        "procedure during the entire period of therapy.",
        "reading_note": _CERULOPLASMIN_CHILD["reading_note"] + " One dose on a procedure day each "
        "week: the prescriber gives the dates, at least 7 days apart.",
        "anchors": ["procedure_dates"],
        "phases": [],
    },
    # ---------------------------------------------------------------- Betaleukin (leaflet 002)
    _betaleukin(
        "betaleukin-leukopoiesis-toxic-iv",
        gettext_noop(
            "Toxic leukopenia grade 2–4 complicating chemo- and radiotherapy (IV infusion)"
        ),
        _BETALEUKIN_IV,
        "15",
        "20",
        10,
        leaflet_quote=_LEUKOPOIESIS_QUOTE,
        reading_note="'2.4 degree' read as grade 2–4. " + _BETALEUKIN_CYCLE_NOTE,
    ),
    _betaleukin(
        "betaleukin-leukopoiesis-toxic-sc",
        gettext_noop(
            "Toxic leukopenia grade 2–4 complicating chemo- and radiotherapy (subcutaneous)"
        ),
        _BETALEUKIN_SC,
        "15",
        "20",
        20,
        leaflet_quote=_LEUKOPOIESIS_QUOTE,
        reading_note="'2.4 degree' read as grade 2–4. " + _BETALEUKIN_CYCLE_NOTE,
    ),
    _betaleukin(
        "betaleukin-leukopoiesis-support-iv",
        gettext_noop(
            "Support of leukopoiesis when chemotherapy is "
            "needed in leukopenia, WBC ≥ 3×10⁹/L (IV infusion)"
        ),
        _BETALEUKIN_IV,
        "15",
        "20",
        30,
        leaflet_quote=_SUPPORT_QUOTE,
        min_wbc_10e9_per_l="3",
        reading_note="'patronage leykopoeza' read as support of leukopoiesis; '3h109/l' as "
        "3×10⁹/L. " + _BETALEUKIN_CYCLE_NOTE,
    ),
    _betaleukin(
        "betaleukin-leukopoiesis-support-sc",
        gettext_noop(
            "Support of leukopoiesis when chemotherapy is "
            "needed in leukopenia, WBC ≥ 3×10⁹/L (subcutaneous)"
        ),
        _BETALEUKIN_SC,
        "15",
        "20",
        40,
        leaflet_quote=_SUPPORT_QUOTE,
        min_wbc_10e9_per_l="3",
        reading_note="'patronage leykopoeza' read as support of leukopoiesis; '3h109/l' as "
        "3×10⁹/L. " + _BETALEUKIN_CYCLE_NOTE,
    ),
    _betaleukin(
        "betaleukin-immunodeficiency-iv",
        gettext_noop(
            "Secondary immunodeficiency after severe trauma or "
            "extensive surgery with septic/purulent processes (IV infusion)"
        ),
        _BETALEUKIN_IV,
        "5",
        "8",
        50,
        leaflet_quote=_IMMUNE_QUOTE,
        reading_note="'5.8 ng/kg' read as 5–8 ng/kg. " + _BETALEUKIN_CYCLE_NOTE,
    ),
    _betaleukin(
        "betaleukin-immunodeficiency-sc",
        gettext_noop(
            "Secondary immunodeficiency after severe trauma or "
            "extensive surgery with septic/purulent processes (subcutaneous)"
        ),
        _BETALEUKIN_SC,
        "5",
        "8",
        60,
        leaflet_quote=_IMMUNE_QUOTE,
        reading_note="'5.8 ng/kg' read as 5–8 ng/kg. " + _BETALEUKIN_CYCLE_NOTE,
    ),
]

# Ceruloplasmin in children: fixed doses by age band ("In the treatment of children").
CERULOPLASMIN_CHILD_BANDS = [
    {"min_months": 6, "max_months": 12, "dose": "50"},
    {"min_months": 12, "max_months": 156, "dose": "100"},
    {"min_months": 156, "max_months": 216, "dose": "200"},
]
_CHILD_SCHEDULES = {
    "ceruloplasmin-child-posthaemorrhagic": (
        [{"kind": "anchor_offsets", "anchor": "surgery", "offsets": [-2, 0, *range(2, 11)]}],
        11,
        11,
    ),
    "ceruloplasmin-child-purulent-surgical": ([DAILY], 7, 10),
    "ceruloplasmin-child-radiation-anaemia": (
        [
            {
                "kind": "weekly",
                "from_anchor": "radiotherapy_start",
                "until_anchor": "radiotherapy_end",
            }
        ],
        1,
        None,
    ),
    "ceruloplasmin-child-toxic-anaemia": (
        [{"kind": "dates", "anchor": "chemotherapy_dates"}],
        1,
        None,
    ),
    "ceruloplasmin-child-chemoradiation-anaemia": (
        [{"kind": "dates", "anchor": "procedure_dates", "min_gap_days": 7}],
        1,
        None,
    ),
}
for _protocol in PROTOCOLS:
    if _protocol["code"] in _CHILD_SCHEDULES:
        _patterns, _count_min, _count_max = _CHILD_SCHEDULES[_protocol["code"]]
        _protocol["phases"] = [
            {
                **_phase(None, None, "mg", _patterns, _count_min, _count_max),
                "dose_basis": "age_band",
                "age_bands": CERULOPLASMIN_CHILD_BANDS,
            }
        ]
