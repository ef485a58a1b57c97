"""The workspace file ``parcours.yaml``: time zone, templates, senders, channels, caps."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

from .checker import Checker
from .durations import check_timezone, parse_duration
from .errors import Problem, ProgramError
from .model import FrequencyCap, Workspace
from .source import read_document

WORKSPACE_FILE = "parcours.yaml"
WORKSPACE_KEYS = ("timezone", "templates", "senders", "channels", "frequency_caps")
SENDER_KEYS = ("from", "reply_to", "sms_sender", "name")
#: channel -> the keys its settings take
CHANNEL_KEYS = {
    "smtp": ("host", "port", "username", "password_env", "starttls", "ssl"),
    "sms": ("url", "token_env", "sender"),
    "webhook": ("timeout", "retries"),
}
CAP_CHANNELS = ("email", "sms", "webhook", "alert")


def find_workspace(folder: FilePath) -> FilePath | None:
    """The nearest ``parcours.yaml`` in ``folder`` or above it."""
    for candidate in (folder, *folder.parents):
        if (candidate / WORKSPACE_FILE).is_file():
            return candidate / WORKSPACE_FILE
    return None


def read_workspace(path: FilePath | None, folder: FilePath) -> tuple[Workspace, list[Problem]]:
    """Read a workspace file (or the defaults when there is none)."""
    if path is None:
        return Workspace(folder=folder), []
    try:
        document = read_document(path, display=_shown(path))
    except ProgramError as error:
        return Workspace(folder=path.parent), error.problems
    checker = Checker(document)
    data = checker.mapping(document.data if document.data is not None else {}, (), "a mapping")
    if data is None:
        return Workspace(folder=path.parent, file=str(path)), checker.problems
    checker.keys(data, (), WORKSPACE_KEYS, what="in parcours.yaml")
    workspace = Workspace(
        folder=path.parent,
        file=str(path),
        timezone=checker.parse(check_timezone, data["timezone"], ("timezone",)) or "UTC"
        if "timezone" in data
        else "UTC",
        templates=_templates(checker, data, path.parent),
        senders=_senders(checker, data.get("senders", {})),
        channels=_channels(checker, data.get("channels", {})),
        frequency_caps=tuple(_caps(checker, data.get("frequency_caps", []))),
    )
    return workspace, checker.problems


def _shown(path: FilePath) -> str:
    """The path as problems show it: relative to the working folder when it lies below it."""
    try:
        return str(path.relative_to(FilePath.cwd()))
    except ValueError:
        return str(path)


def _templates(checker: Checker, data: dict[str, Any], folder: FilePath) -> FilePath | None:
    if "templates" not in data:
        return None
    name = checker.string(data["templates"], ("templates",), "a folder")
    if name is None:
        return None
    templates = folder / name
    if not templates.is_dir():
        checker.error(
            ("templates",), f"the templates folder '{name}' does not exist next to parcours.yaml"
        )
        return None
    return templates


def _senders(checker: Checker, value: object) -> dict[str, dict[str, str]]:
    data = checker.mapping(value, ("senders",), "a mapping of sender profile ids to profiles")
    senders = {}
    for sender_id, profile in (data or {}).items():
        path = ("senders", sender_id)
        checker.ident(sender_id, path, "sender profile")
        fields = checker.mapping(profile, path, "a sender profile such as {from: news@example.com}")
        if fields is None:
            continue
        checker.keys(fields, path, SENDER_KEYS, what="in a sender profile")
        senders[sender_id] = {k: str(v) for k, v in fields.items()}
    return senders


def _channels(checker: Checker, value: object) -> dict[str, dict[str, Any]]:
    data = checker.mapping(value, ("channels",), "a mapping of channel settings")
    channels = {}
    for channel, settings in (data or {}).items():
        path = ("channels", channel)
        if channel not in CHANNEL_KEYS:
            checker.keys({channel: settings}, ("channels",), CHANNEL_KEYS, what="in channels")
            continue
        fields = checker.mapping(settings, path)
        if fields is not None:
            checker.keys(fields, path, CHANNEL_KEYS[channel], what=f"in the {channel} channel")
            if "timeout" in fields:
                checker.parse(parse_duration, fields["timeout"], (*path, "timeout"))
            channels[channel] = dict(fields)
    return channels


def _caps(checker: Checker, value: object) -> list[FrequencyCap]:
    items = checker.sequence(
        value, ("frequency_caps",), "a list such as [{channel: email, max: 3, per: 7d}]"
    )
    caps = []
    for i, item in enumerate(items or []):
        path = ("frequency_caps", i)
        data = checker.mapping(item, path, "a cap such as {channel: email, max: 3, per: 7d}")
        if data is None:
            continue
        checker.keys(
            data,
            path,
            ("channel", "max", "per"),
            ("channel", "max", "per"),
            what="in a frequency cap",
        )
        channel = (
            checker.choice(data.get("channel"), (*path, "channel"), CAP_CHANNELS)
            if "channel" in data
            else None
        )
        most = checker.integer(data["max"], (*path, "max"), minimum=1) if "max" in data else None
        per = checker.parse(parse_duration, data["per"], (*path, "per")) if "per" in data else None
        if channel and most and per:
            caps.append(FrequencyCap(channel, most, per))
    return caps
