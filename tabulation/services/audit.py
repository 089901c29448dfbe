"""The append-only, hash-chained audit trail (docs/audit.md).

Every service calls `audit_append` inside its own transaction, so the event
is stored if and only if the change it describes is stored.

Each event's hash is an HMAC-SHA256 under `settings.AUDIT_HMAC_KEY`, a key
that lives outside the database: someone who can write the tables but does
not hold the key cannot rewrite an event and recompute the chain after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from tabulation.models import GENESIS_HASH, AuditEvent, AuditHead

# The fields that the hash covers, besides the previous hash. Changing this
# list changes every hash: it is part of the format (docs/audit.md).
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "station_code",
    "before",
    "after",
    "reason",
    "client_address",
)


class _NoFloatEncoder(DjangoJSONEncoder):
    """Dates, decimals and UUIDs become strings; floats are refused.

    A float would not survive a round trip through PostgreSQL's jsonb
    unchanged in every case (1e20 comes back as an integer), which would
    break the hash; and counts and shares are never floats (house rule 5).
    """

    def iterencode(self, o: Any, _one_shot: bool = False) -> Any:
        _refuse_floats(o)
        return super().iterencode(o, _one_shot)


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("audit values must not be floats; use Decimal or str")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def to_json_value(value: Any) -> Any:
    """The value as it will read back from the JSON column."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=_NoFloatEncoder))


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds: one spelling per instant."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def audit_key() -> bytes:
    """The HMAC key of the chain: the UTF-8 bytes of `settings.AUDIT_HMAC_KEY`.

    Read at every call, never cached: the key comes from the environment
    (commission/settings.py), not from the database.
    """
    key = getattr(settings, "AUDIT_HMAC_KEY", "")
    if not key:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY must be set to write or verify the audit trail.")
    return str(key).encode("utf-8")


def event_hash(fields: dict[str, Any], prev_hash: str, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 hex, under the audit key, of the canonical JSON of the
    event's fields and the previous hash. `fields` holds HASHED_FIELDS with
    `occurred_at` as a datetime; `key` defaults to `audit_key()`."""
    data = {name: fields[name] for name in HASHED_FIELDS}
    data["occurred_at"] = format_timestamp(fields["occurred_at"])
    data["prev_hash"] = prev_hash
    return hmac.new(
        key if key is not None else audit_key(), canonical_json(data), hashlib.sha256
    ).hexdigest()


def stored_event_hash(event: AuditEvent, *, key: bytes | None = None) -> str:
    """Recompute the hash of a stored event from its columns."""
    return event_hash(
        {name: getattr(event, name) for name in HASHED_FIELDS}, event.prev_hash, key=key
    )


def station_code_of(obj: models.Model | None) -> str:
    """The station an object is or belongs to, for searching the trail."""
    if obj is None:
        return ""
    from tabulation.models import PollingStation

    if isinstance(obj, PollingStation):
        return obj.code
    for path in ("station", "round__station", "entry__round__station"):
        current: Any = obj
        for step in path.split("__"):
            current = getattr(current, step, None)
            if current is None:
                break
        if isinstance(current, PollingStation):
            return current.code
    return ""


def _lock_head() -> AuditHead:
    """Lock the single head row, creating it if it is missing.

    The race this prevents: two transactions both read "last event is N" and
    both write N+1 with the same previous hash, which forks the chain. With
    the head row locked FOR UPDATE the second waits until the first commits
    and then reads N+1 (PostgreSQL re-reads a row it waited for). On SQLite
    select_for_update is a no-op, but the project opens every transaction with
    BEGIN IMMEDIATE, so write transactions run one at a time anyway. The
    unique constraint on `sequence` is the last line: a fork cannot be stored.
    """
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # Missing only on a fresh or flushed database: start from the last event
    # (if any) so the chain continues rather than restarting at 1.
    last = AuditEvent.objects.order_by("-sequence").first()
    AuditHead.objects.get_or_create(
        pk=1,
        defaults={
            "sequence": last.sequence if last else 0,
            "hash": last.hash if last else GENESIS_HASH,
        },
    )
    return AuditHead.objects.select_for_update().get(pk=1)


def audit_append(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    station_code: str | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    client_address: str | None = None,
) -> AuditEvent:
    """Append one event to the chain and return it.

    `action` is a dotted name ("election.import", "record.submit"). The object
    is given either as `obj` (its model label and primary key are stored) or
    as `object_type`/`object_id` text. `before`/`after` must be JSON values
    without floats. Call it inside the service's transaction.
    """
    if not action:
        raise ValueError("an audit event needs an action")
    with transaction.atomic():
        head = _lock_head()
        user = actor if actor is not None and actor.is_authenticated else None
        if obj is not None:
            object_type = object_type or obj._meta.label_lower
            object_id = object_id or str(obj.pk)
        fields: dict[str, Any] = {
            "sequence": head.sequence + 1,
            "occurred_at": timezone.now(),
            "actor_id": user.pk if user is not None else None,
            "actor_username": user.get_username() if user is not None else "",
            "action": action,
            "object_type": object_type or "",
            "object_id": object_id or "",
            "station_code": station_code if station_code is not None else station_code_of(obj),
            "before": to_json_value(before),
            "after": to_json_value(after),
            "reason": reason,
            # Stored as the column normalizes it (IPv6 is compressed), so
            # that the hash recomputed from the row matches.
            "client_address": (
                AuditEvent._meta.get_field("client_address").get_prep_value(client_address)
                if client_address
                else None
            ),
        }
        digest = event_hash(fields, head.hash)
        event = AuditEvent.objects.create(**fields, prev_hash=head.hash, hash=digest)
        # A plain UPDATE of the locked row: no read-modify-write race (the
        # lock is held until commit).
        AuditHead.objects.filter(pk=1).update(sequence=event.sequence, hash=digest)
        return event
