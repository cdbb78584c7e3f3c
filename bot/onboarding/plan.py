"""What onboarding a partner creates: computed from the chapter and the guild's template, checked against what
the bot may do, before anything is touched. Permissions are discord.py's flag names (`view_channel`, ...)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.errors import UserError
from bot.i18n import N_

NAME_LIMIT = 100  # Discord's limit on role and channel names
SHORT_LIMIT = 20  # leaves room for "-announcements" in a channel name
PARTNER_COLOUR = 0x2B6CB0

# Targets of a permission overwrite.
EVERYONE = "everyone"
PARTNER = "partner"
ORGANISERS = "organisers"
BOT = "bot"

# Overwrites grant only what privacy needs; talking, connecting and the rest come from the guild's own roles.
READ = frozenset({"view_channel", "read_message_history"})
POST = READ | {"send_messages"}
VOICE = frozenset({"view_channel"})
BOT_NEEDS = POST | {"embed_links"}


@dataclass(frozen=True, slots=True)
class ChannelTemplate:
    """One channel of a partner's space: `{short}` in the name is the partner's short name."""

    key: str
    name: str
    kind: str = "text"  # text | voice
    partner_may_post: bool = True


DEFAULT_TEMPLATE = (
    ChannelTemplate("general", "{short}-general"),
    ChannelTemplate("projects", "{short}-projects"),
    ChannelTemplate("announcements", "{short}-announcements", partner_may_post=False),
    ChannelTemplate("voice", "{short}-voice", kind="voice"),
)


@dataclass(frozen=True, slots=True)
class Overwrite:
    """Permissions allowed and denied to one target in a channel or category."""

    target: str
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """A channel to create (or keep) in the partner's category."""

    key: str
    name: str
    kind: str
    overwrites: tuple[Overwrite, ...]


@dataclass(frozen=True, slots=True)
class PartnerPlan:
    """Everything onboarding one partner creates, in the order it is created."""

    chapter_key: str
    role_name: str
    role_colour: int
    category_name: str
    category_overwrites: tuple[Overwrite, ...]
    channels: tuple[ChannelPlan, ...]
    representatives: tuple[int, ...]
    public: bool

    def permissions_used(self) -> frozenset[str]:
        """Every permission the plan allows or denies anywhere."""
        overwrites = [*self.category_overwrites, *(o for c in self.channels for o in c.overwrites)]
        return frozenset().union(*(o.allow | o.deny for o in overwrites))


@dataclass(frozen=True, slots=True)
class GuildFacts:
    """What the bot holds in the guild, read just before planning and again before applying."""

    bot_permissions: frozenset[str]
    bot_top_role_position: int
    administrator: bool = False
    role_positions: Mapping[int, int] = field(default_factory=dict)


def short_slug(text: str) -> str:
    """A channel-name slug: lowercase letters, digits and dashes; accents dropped; at most SHORT_LIMIT."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    return slug[:SHORT_LIMIT].strip("-")


def plan_partner(
    chapter_key: str,
    name: str,
    short_name: str,
    *,
    representatives: Iterable[int] = (),
    public: bool = False,
    template: Iterable[ChannelTemplate] = DEFAULT_TEMPLATE,
    has_organiser_role: bool = False,
) -> PartnerPlan:
    """The role, category and channels for a partner; private to the partner role and organisers unless public."""
    short = short_slug(short_name)
    if not short:
        raise UserError(
            N_("“{name}” makes no channel name: give a short name with letters or digits."), name=short_name
        )
    if len(name) > NAME_LIMIT:
        raise UserError(N_("A partner name can have at most {limit} characters."), limit=NAME_LIMIT)
    staff = (ORGANISERS,) if has_organiser_role else ()
    channels = []
    no_posting = frozenset({"send_messages"})
    for item in template:
        voice = item.kind == "voice"
        read_only = not voice and not item.partner_may_post
        overwrites = [
            Overwrite(PARTNER, allow=VOICE if voice else READ, deny=no_posting if read_only else frozenset()),
            *(Overwrite(target, allow=VOICE if voice else POST) for target in staff),
            Overwrite(BOT, allow=VOICE if voice else BOT_NEEDS),
        ]
        if not public:
            overwrites.insert(0, Overwrite(EVERYONE, deny=frozenset({"view_channel"})))
        elif read_only:
            overwrites.insert(0, Overwrite(EVERYONE, deny=no_posting))
        channels.append(ChannelPlan(item.key, item.name.format(short=short)[:NAME_LIMIT], item.kind, tuple(overwrites)))
    category_overwrites = (
        () if public else (Overwrite(EVERYONE, deny=frozenset({"view_channel"})), Overwrite(PARTNER, allow=READ))
    ) + (Overwrite(BOT, allow=BOT_NEEDS),)
    return PartnerPlan(
        chapter_key=chapter_key,
        role_name=name,
        role_colour=PARTNER_COLOUR,
        category_name=name,
        category_overwrites=tuple(category_overwrites),
        channels=tuple(channels),
        representatives=tuple(dict.fromkeys(representatives)),
        public=public,
    )


def taken_channel_names(plan: PartnerPlan, channels: Mapping[int, str], own: Iterable[int]) -> list[str]:
    """The planned channel names the guild already uses for channels that are not this partner's."""
    mine = set(own)
    used = {name for channel_id, name in channels.items() if channel_id not in mine}
    return [channel.name for channel in plan.channels if channel.name in used]


def refusals(plan: PartnerPlan, facts: GuildFacts, existing_role_id: int | None = None) -> list[UserError]:
    """Why the bot could not carry the plan out, checked before anything is created (empty: it can)."""
    problems: list[UserError] = []
    held = facts.bot_permissions
    if not facts.administrator:
        for needed, label in (("manage_roles", "Manage Roles"), ("manage_channels", "Manage Channels")):
            if needed not in held:
                problems.append(
                    UserError(N_("I need the {permission} permission to onboard a partner."), permission=label)
                )
        missing = sorted(plan.permissions_used() - held)
        if missing:
            problems.append(
                UserError(
                    N_("I cannot grant permissions I do not hold myself: {permissions}."),
                    permissions=", ".join(p.replace("_", " ") for p in missing),
                )
            )
    if existing_role_id is not None:
        position = facts.role_positions.get(existing_role_id)
        if position is not None and position >= facts.bot_top_role_position:
            problems.append(
                UserError(N_("The partner's role is above my highest role: move my role above it, then try again."))
            )
    return problems
