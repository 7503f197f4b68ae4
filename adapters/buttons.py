"""The buttons under an alert, for every platform that can receive clicks (Slack and Discord bot modes).

One place decides which buttons an alert shows and what a click on each asks for; each platform's renderer
only lays them out (Block Kit `actions`, a Discord action row) and its adapter turns a click into an Action.
A button carries the incident it is about, so a click still means the same after a restart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot import wording
from bot.model import Action, ActionKind, Actor, Alert, AlertKind

MUTE_FOR = timedelta(hours=1)  # "Mute 1 h"
HASH_CHARS = 16  # the hex sha1 prefix a button may carry instead of a long incident id
# Only an open incident's message has buttons: not a notice, a recovery, a digest or any kind added later.
WITH_BUTTONS = frozenset({AlertKind.OPENED, AlertKind.UPDATED, AlertKind.REMINDER})


class Verb(StrEnum):
    """What a button does; its value is part of the platform's button id (Slack action_id, Discord custom_id)."""

    ACK = "ack"
    MUTE_1H = "mute_1h"
    MUTE_RESOLVED = "mute_resolved"
    UNMUTE = "unmute"


@dataclass(frozen=True)
class Button:
    verb: Verb
    label: str
    primary: bool = False  # the one to press at 3 a.m.
    danger: bool = False


LABELS = {
    Verb.ACK: Button(Verb.ACK, wording.BUTTON_ACK, primary=True),
    Verb.MUTE_1H: Button(Verb.MUTE_1H, wording.BUTTON_MUTE_1H),
    Verb.MUTE_RESOLVED: Button(Verb.MUTE_RESOLVED, wording.BUTTON_MUTE_RESOLVED),
    Verb.UNMUTE: Button(Verb.UNMUTE, wording.BUTTON_UNMUTE, danger=True),
}


def buttons(alert: Alert) -> tuple[Button, ...]:
    """The buttons an alert's parent message shows: none on notices, resolved alerts, digests or `buttons=False`;
    Acknowledge until someone has; Mute 1 h and Mute until resolved, or Unmute while muted."""
    if not alert.buttons or alert.kind not in WITH_BUTTONS or alert.resolved_at is not None:
        return ()
    shown: list[Button] = []
    if alert.acknowledged is None:
        shown.append(LABELS[Verb.ACK])
    if alert.muted is None:
        shown += [LABELS[Verb.MUTE_1H], LABELS[Verb.MUTE_RESOLVED]]
    else:
        shown.append(LABELS[Verb.UNMUTE])
    return tuple(shown)


def incident_hash(incident_id: str) -> str:
    """A short stable name for an incident (bot.operate resolves an incident id or this prefix)."""
    return hashlib.sha1(incident_id.encode()).hexdigest()[:HASH_CHARS]


def action(verb: Verb, *, incident: str, actor: Actor, now: datetime) -> Action:
    """What a click on `verb` asks for; `incident` is the id (or its hash) the button carried."""
    if verb is Verb.ACK:
        return Action(ActionKind.ACK, actor, incident_id=incident)
    if verb is Verb.MUTE_1H:
        return Action(ActionKind.MUTE, actor, incident_id=incident, until=now + MUTE_FOR)
    if verb is Verb.MUTE_RESOLVED:
        return Action(ActionKind.MUTE, actor, incident_id=incident, until=None)
    return Action(ActionKind.UNMUTE, actor, incident_id=incident)


def verb_of(text: str) -> Verb | None:
    """The Verb named by `text`, or None (a button this version does not know)."""
    try:
        return Verb(text)
    except ValueError:
        return None
