"""Discord permission bits and the permission computation Discord performs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import Channel, Guild, Role

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
MUTE_MEMBERS = 1 << 22
MOVE_MEMBERS = 1 << 24
CHANGE_NICKNAME = 1 << 26
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40
CREATE_EVENTS = 1 << 44

ALL = (1 << 53) - 1

DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)

# What Discord reports as a bot's permissions in a direct message with a user.
DM_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | MENTION_EVERYONE
)

DEFAULT_BOT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | MANAGE_ROLES
    | MANAGE_CHANNELS
    | MANAGE_MESSAGES
    | MANAGE_EVENTS
    | CREATE_EVENTS
    | MANAGE_NICKNAMES
    | MANAGE_THREADS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
    | USE_APPLICATION_COMMANDS
)

PRIVATE_THREAD = 12
_NEEDS_SEND = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS


def role_key(role: Role) -> tuple[int, int]:
    """Sort key of the role hierarchy: higher position wins, then the older role."""
    return (role.position, -role.id)


def top_role(guild: Guild, user_id: int) -> Role:
    """The member's highest role (@everyone if they have none)."""
    member = guild.members[user_id]
    roles = [guild.roles[r] for r in member.roles if r in guild.roles]
    roles.append(guild.roles[guild.id])
    return max(roles, key=role_key)


def can_manage_role(guild: Guild, user_id: int, role: Role) -> bool:
    """Whether the user sits strictly above `role` in the hierarchy (owners always do)."""
    if guild.owner_id == user_id:
        return True
    return role_key(role) < role_key(top_role(guild, user_id))


def base_permissions(guild: Guild, user_id: int) -> int:
    """Guild-level permissions: @everyone plus every role, with owner and administrator bypass."""
    if guild.owner_id == user_id:
        return ALL
    member = guild.members.get(user_id)
    perms = guild.roles[guild.id].permissions
    if member is not None:
        for role_id in member.roles:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
    if perms & ADMINISTRATOR:
        return ALL
    return perms


def channel_permissions(guild: Guild, channel: Channel, user_id: int) -> int:
    """Permissions in a channel: base, then @everyone, role and member overwrites.

    A thread has its parent's permissions, where Send Messages in Threads stands for Send Messages;
    a private thread is visible only to its members and to those who may Manage Threads.
    """
    thread = channel.thread
    parent = guild.channels.get(channel.parent_id or 0) if thread is not None else None
    if thread is None or parent is None:
        return _implied(_overwritten(guild, channel, user_id), SEND_MESSAGES)
    perms = _overwritten(guild, parent, user_id)
    if channel.type == PRIVATE_THREAD and user_id not in thread.members and not perms & MANAGE_THREADS:
        return 0
    return _implied(perms, SEND_MESSAGES_IN_THREADS)


def _implied(perms: int, send: int) -> int:
    """Discord's implicit denials: no View Channel denies everything, no `send` denies what needs it."""
    if not perms & VIEW_CHANNEL:
        return 0
    if not perms & send:
        perms &= ~_NEEDS_SEND
    return perms


def _overwritten(guild: Guild, channel: Channel, user_id: int) -> int:
    perms = base_permissions(guild, user_id)
    if perms & ADMINISTRATOR or guild.owner_id == user_id:
        return ALL
    overwrites = channel.overwrites
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    member = guild.members.get(user_id)
    roles = member.roles if member is not None else []
    allow = deny = 0
    for role_id in roles:
        overwrite = overwrites.get(role_id)
        if overwrite is not None and overwrite.type == 0:
            allow |= overwrite.allow
            deny |= overwrite.deny
    perms = (perms & ~deny) | allow
    own = overwrites.get(user_id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    return perms
