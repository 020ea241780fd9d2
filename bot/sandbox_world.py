"""The sandbox's seeded world: a fictional but realistic corner of Northern Ontario.

Everyone and everything here is invented (names, organisations, addresses, youth,
risk notes, associates); the coordinates are approximate real places around Greater
Sudbury and Espanola (about 65 km apart) so distances and reach behave as they would.
The youth's photos are abstract avatars drawn locally (:mod:`bot.sandbox_avatar`).

Seeding goes through the services (:mod:`bot.services.members`,
:mod:`bot.services.seeding`), so every member, organisation and profile has its
timeline event; the cast and named places are also described in the emulator's
persona registry for the web chat. Scenario scripts name people by their key
(``staff1``, ``coordinator``, ``outreach_espanola`` ...), see :data:`PERSONA_KEYS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.app import Homeward
from bot.clock import Clock
from bot.domain.incidents import Place
from bot.domain.membership import OrgKind, Role, ServiceArea
from bot.emulator import Emulator
from bot.emulator.personas import Area, Persona
from bot.sandbox_avatar import avatar_png
from bot.services import members, seeding

SANDBOX_ADMIN_NAME = "Sandbox Admin"
STRANGER = "stranger"  # the persona role of someone who is not a member
VIA = "sandbox seed"


@dataclass(frozen=True, slots=True)
class OrgSpec:
    key: str
    kind: OrgKind
    name: str
    address: str | None = None
    point: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class PersonSpec:
    key: str
    first_name: str
    last_name: str
    username: str
    role: Role | None  # None: a stranger, not a member
    org: str | None  # OrgSpec key
    area: tuple[float, float, float] | None  # latitude, longitude, radius in km
    what: str  # the label's description, e.g. "outreach (Espanola)"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def label(self) -> str:
        return f"{self.name} — {self.what}"


SUDBURY = (46.4917, -80.9930)  # downtown Greater Sudbury
ESPANOLA = (46.2580, -81.7670)  # about 65 km west-south-west
MAPLE_HOUSE = (46.4950, -80.9990)

ORGS: tuple[OrgSpec, ...] = (
    OrgSpec("residence", OrgKind.RESIDENCE, "Maple House", "41 Larch Street, Sudbury", MAPLE_HOUSE),
    OrgSpec(
        "team", OrgKind.INTERVENTION_TEAM, "Nickel Belt Youth Intervention Team", None, SUDBURY
    ),
    OrgSpec("police", OrgKind.POLICE_SERVICE, "Nickel City Police Service", None, SUDBURY),
    OrgSpec(
        "child_protection",
        OrgKind.CHILD_PROTECTION_AGENCY,
        "Northern Shield Children's Services",
        None,
        SUDBURY,
    ),
    OrgSpec(
        "outreach", OrgKind.COMMUNITY_AGENCY, "Spanish River Community Outreach", None, ESPANOLA
    ),
)

# In the web chat's order: staff, coordinator, police, child protection, outreach,
# the stranger, the admin.
CAST: tuple[PersonSpec, ...] = (
    PersonSpec(
        "staff1",
        "Dana",
        "Whitefeather",
        "dana_maplehouse",
        Role.RESIDENCE_STAFF,
        "residence",
        (*MAPLE_HOUSE, 5.0),
        "residence staff (Maple House)",
    ),
    PersonSpec(
        "staff2",
        "Marcus",
        "Okafor",
        "marcus_maplehouse",
        Role.RESIDENCE_STAFF,
        "residence",
        (*MAPLE_HOUSE, 5.0),
        "residence staff (Maple House)",
    ),
    PersonSpec(
        "coordinator",
        "Claire",
        "Beaulieu",
        "claire_nbyit",
        Role.COORDINATOR,
        "team",
        (*SUDBURY, 80.0),
        "coordinator (Nickel Belt Youth Intervention Team)",
    ),
    PersonSpec(
        "police",
        "Priya",
        "Raman",
        "cst_raman",
        Role.POLICE,
        "team",
        (*SUDBURY, 25.0),
        "police officer (intervention team, Sudbury)",
    ),
    PersonSpec(
        "cpw",
        "Grace",
        "Mensah",
        "grace_cpw",
        Role.CHILD_PROTECTION,
        "team",
        (*SUDBURY, 35.0),
        "child-protection worker (intervention team)",
    ),
    PersonSpec(
        "outreach_sudbury",
        "Tomás",
        "Herrera",
        "tomas_outreach",
        Role.RESPONDER,
        "team",
        (*SUDBURY, 15.0),
        "outreach (Sudbury)",
    ),
    PersonSpec(
        "outreach_espanola",
        "Aiyana",
        "Cheechoo",
        "aiyana_outreach",
        Role.RESPONDER,
        "outreach",
        (*ESPANOLA, 10.0),
        "Indigenous liaison, outreach (Espanola)",
    ),
    PersonSpec(
        "stranger", "Chris", "Morgan", "chris_m_1987", None, None, None, "stranger (not a member)"
    ),
    PersonSpec("admin", "Sandbox", "Admin", "sandbox_admin", Role.ADMIN, None, None, "admin"),
)

PERSONA_KEYS: tuple[str, ...] = tuple(p.key for p in CAST)
EMPTY_PERSONA_KEYS: tuple[str, ...] = ("admin",)

# Named places for the web chat's location picker and for scenario scripts.
PLACES: dict[str, tuple[float, float]] = {
    "Maple House": MAPLE_HOUSE,
    "Bus terminal (downtown Sudbury)": (46.4906, -80.9921),
    "Mall food court (New Sudbury)": (46.5170, -80.9640),
    "Skate park (Bell Park)": (46.4810, -80.9790),
    "Friend's street (Minnow Lake)": (46.4830, -80.9440),
    "Hospital (Sudbury)": (46.4690, -80.9910),
    "Downtown Sudbury": SUDBURY,
    "Highway 17 at Whitefish": (46.3820, -81.3300),
    "Espanola town centre": ESPANOLA,
    "Aunt's street (Espanola)": (46.2610, -81.7700),
}


@dataclass(frozen=True, slots=True)
class YouthSpec:
    preferred_name: str
    legal_name: str
    pronouns: str
    age: int
    birthday_days_ago: int  # so the age is stable whatever the seeding date
    description: str
    languages: str
    places: tuple[str, ...]  # keys of PLACES
    associates: tuple[str, ...]
    risk_notes: str
    medical_needs: str | None = None
    indigenous_community: str | None = None
    service_preference: str | None = None


YOUTH: tuple[YouthSpec, ...] = (
    YouthSpec(
        preferred_name="Jay",
        legal_name="Jordan Alexander Reyes",
        pronouns="they/them",
        age=15,
        birthday_days_ago=120,
        description=(
            "5 ft 2, slim, short dyed-blue hair, nose ring; usually in a green army jacket "
            "and black high-tops"
        ),
        languages="English, Spanish",
        places=(
            "Mall food court (New Sudbury)",
            "Skate park (Bell Park)",
            "Bus terminal (downtown Sudbury)",
        ),
        associates=(
            "FICTIONAL: 'Dee', an older contact met online who offers rides",
            "FICTIONAL: Sam R., a school friend from the skate park",
        ),
        risk_notes=(
            "FICTIONAL (sandbox example): has run to the bus terminal twice; an older "
            "online contact has offered a ride to Toronto."
        ),
        medical_needs="FICTIONAL: asthma, carries a blue inhaler",
    ),
    YouthSpec(
        preferred_name="Tess",
        legal_name="Tessa Marie Nolin",
        pronouns="she/her",
        age=14,
        birthday_days_ago=250,
        description=(
            "4 ft 11, long black hair usually in a braid, purple backpack with a beaded keychain"
        ),
        languages="English, some Anishinaabemowin",
        places=(
            "Friend's street (Minnow Lake)",
            "Highway 17 at Whitefish",
            "Aunt's street (Espanola)",
        ),
        associates=("FICTIONAL: her aunt in Espanola (safe adult, not a risk)",),
        risk_notes=(
            "FICTIONAL (sandbox example): has tried to hitchhike on Highway 17 to reach "
            "family in Espanola."
        ),
        indigenous_community="Anishinaabe (a fictional home community, sandbox)",
        service_preference="Prefers an Indigenous liaison worker for first contact",
    ),
)

YOUTH_NAMES: tuple[str, ...] = tuple(y.preferred_name for y in YOUTH)


@dataclass(frozen=True, slots=True)
class SeededPerson:
    key: str
    user_id: int
    name: str
    role: str  # the bot's role value, or "stranger"
    label: str


@dataclass(frozen=True, slots=True)
class SeededYouth:
    id: int
    preferred_name: str
    legal_name: str
    photo_file_id: str
    photo: bytes


@dataclass
class SeededWorld:
    """Who and what the sandbox started with, by key."""

    people: dict[str, SeededPerson] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)  # OrgSpec key -> organisation id
    youth: dict[str, SeededYouth] = field(default_factory=dict)  # by preferred name
    places: dict[str, tuple[float, float]] = field(default_factory=dict)

    def person(self, key: str) -> SeededPerson:
        try:
            return self.people[key]
        except KeyError:
            known = ", ".join(self.people) or "nobody"
            raise KeyError(f"no persona {key!r} in this sandbox (it has: {known})") from None


def birthday(today: date, *, age: int, days_ago: int) -> date:
    """A date of birth giving ``age`` today, the last birthday ``days_ago`` days back."""
    last = today - timedelta(days=days_ago)
    try:
        return last.replace(year=last.year - age)
    except ValueError:  # 29 February
        return last.replace(year=last.year - age, day=28)


def _persona(spec: PersonSpec, user_id: int, order: int) -> Persona:
    area = Area(*spec.area) if spec.area else None
    role = spec.role.value if spec.role else STRANGER
    return Persona(user_id=user_id, label=spec.label, role=role, area=area, order=order)


async def _add_admin(homeward: Homeward, emulator: Emulator, world: SeededWorld) -> None:
    order = PERSONA_KEYS.index("admin")
    spec = CAST[order]
    user = emulator.add_user(
        first_name=spec.first_name, last_name=spec.last_name, username=spec.username
    )
    await members.add_admin(homeward.ctx, telegram_id=user.id, name=SANDBOX_ADMIN_NAME)
    emulator.personas.add(_persona(spec, user.id, order))
    world.people["admin"] = SeededPerson(
        "admin", user.id, SANDBOX_ADMIN_NAME, Role.ADMIN.value, spec.label
    )


async def seed_admin(homeward: Homeward, emulator: Emulator) -> SeededWorld:
    """The empty sandbox: only the administrator (``--empty``)."""
    world = SeededWorld()
    await _add_admin(homeward, emulator, world)
    return world


async def seed_world(
    homeward: Homeward, emulator: Emulator, *, clock: Clock | None = None
) -> SeededWorld:
    """Organisations, members, a stranger, two youth with photos, and named places.

    ``clock`` dates the youth's birthdays (the app's clock by default). Nothing leaves
    the machine: the photos are drawn here and stored in the emulator as if uploaded.
    """
    ctx = homeward.ctx
    today = (clock or ctx.clock).now().astimezone(ctx.zone).date()
    world = SeededWorld(places=dict(PLACES))
    for org in ORGS:
        created = await members.create_org(
            ctx,
            actor_telegram_id=None,
            kind=org.kind,
            name=org.name,
            address=org.address,
            latitude=org.point[0] if org.point else None,
            longitude=org.point[1] if org.point else None,
        )
        world.orgs[org.key] = created.id

    for order, spec in enumerate(CAST):
        if spec.key == "admin":
            await _add_admin(homeward, emulator, world)
            continue
        user = emulator.add_user(
            first_name=spec.first_name, last_name=spec.last_name, username=spec.username
        )
        if spec.role is not None and spec.org is not None:
            area = spec.area
            await seeding.add_member(
                ctx,
                telegram_id=user.id,
                name=spec.name,
                role=spec.role,
                org_id=world.orgs[spec.org],
                area=ServiceArea(latitude=area[0], longitude=area[1], radius_km=area[2])
                if area
                else None,
                via=VIA,
            )
        emulator.personas.add(_persona(spec, user.id, order))
        role = spec.role.value if spec.role else STRANGER
        world.people[spec.key] = SeededPerson(spec.key, user.id, spec.name, role, spec.label)

    keeper = world.people["staff1"].user_id
    for seed, youth in enumerate(YOUTH):
        photo = avatar_png(seed)
        file_id = emulator.upload_file(photo, ext="png")
        fields: dict[str, Any] = {
            "legal_name": youth.legal_name,
            "preferred_name": youth.preferred_name,
            "pronouns": youth.pronouns,
            "date_of_birth": birthday(today, age=youth.age, days_ago=youth.birthday_days_ago),
            "photo_file_id": file_id,
            "description": youth.description,
            "languages": youth.languages,
            "indigenous_community": youth.indigenous_community,
            "service_preference": youth.service_preference,
            "medical_needs": youth.medical_needs,
            "places": [Place(name, *PLACES[name]) for name in youth.places],
            "associates": list(youth.associates),
            "risk_notes": youth.risk_notes,
        }
        kept = await seeding.add_youth(ctx, keeper_telegram_id=keeper, fields=fields, via=VIA)
        world.youth[youth.preferred_name] = SeededYouth(
            kept.id, youth.preferred_name, youth.legal_name, file_id, photo
        )

    for name, (latitude, longitude) in PLACES.items():
        emulator.personas.add_place(name, latitude, longitude)
    return world
