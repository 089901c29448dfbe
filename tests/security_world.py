"""One small election in the middle of its night, with every role signed in:
the world the permission matrix and the blind-entry sweep look at.

- station A (municipality 1): the first clerk has typed the first entry,
  with ``TYPED`` registered voters (the register says 1,000): not accepted,
  so nothing of it may reach a reader or the other municipality's clerk;
- station B (municipality 2): counted;
- a snapshot of the provisional results published, an objection registered;
- the first clerk of station A has attached a scan with the entry (not
  accepted: nobody but that clerk and the commission may see it), and the
  record of station B has a scan (accepted: public);
- an observer (an accredited organisation) has sent its copy of both
  stations, with a photo of its copy of station A.

Roles: anonymous; clerk of station A; clerk of station B; a commission
member without a second factor; one with it proved; an administrator and a
superuser, both with it proved; the observer.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.contrib.admin import site as admin_site
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from PIL import Image

from tabulation.models import Objection, RecordEntry, RecordScan, ResultSnapshot, StationRound
from tabulation.selectors.published import published_memo_clear
from tabulation.services import tabulation as tabulation_service
from tabulation.services.decisions import objection_register
from tabulation.services.observers import copy_submit, observer_accredit
from tabulation.services.publishing import snapshot_publish
from tabulation.services.roles import ROLE_ADMINISTRATOR, ROLE_COMMISSION_MEMBER, clerk_assign
from tabulation.services.scans import paper_publish, scan_attach, scan_check
from tabulation.services.tabulation import tabulation_compute
from tests.factories import UserFactory, record_values
from tests.factories_records import record_accept
from tests.second_factor import verified_login
from tests.views.entry_setup import VOTES, EntrySetup, entry_setup, submit

ROLES = (
    "anonymous",
    "clerk_a",
    "clerk_b",
    "member",
    "member_2fa",
    "administrator",
    "superuser",
    "observer",
)
# What the first clerk of station A typed for the registered voters.
TYPED = 1777
# 1777 as JSON and CSV write it, and as the pages format it (1.777, 1,777,
# 1 777): not inside a longer number or a hash.
TYPED_FIGURE = re.compile(r"(?<![0-9A-Za-z])1[.,\u00a0\u202f ]?777(?![0-9A-Za-z])")
OUTSIDER_VOTES = {1: 100, 2: 50, 3: 20}


@dataclass
class World:
    setup: EntrySetup
    snapshot: ResultSnapshot
    objection: Objection
    # Station A's scan (unaccepted) and its hash, which only the clerk and
    # the commission may see before acceptance; station B's (public).
    scan: RecordScan | None = None
    public_scan: RecordScan | None = None
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def parameters(self, route_name: str, model_pk: dict[str, str]) -> dict[str, str]:
        setup = self.setup
        code = setup.station.code
        if route_name.startswith("results:municipality"):
            code = setup.station.municipality.code
        return {
            "slug": setup.election.slug,
            "code": code,
            "version": str(self.snapshot.version),
            "filename": "results.json",
            "pk": str(self.objection.pk),
            "objection_id": str(self.objection.pk),
            "entry_id": str(RecordEntry.objects.filter(round=setup.round).get().pk),
            "uidb64": "MQ",
            "token": "set-password",
            "app_label": "tabulation",
            "id": str(self.users["member"].pk),
            "object_id": model_pk.get(route_name, "0"),
            "url": "nowhere/",
            "path": "nowhere/",
            "content_type_id": "1",
            "scan": self.scan.filename if self.scan is not None else "none.png",
        }


def world_build(publish_dir: Any) -> World:
    setup = entry_setup()
    outsider_round = StationRound.objects.get(station=setup.outsider_station)
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        record_accept(outsider_round, OUTSIDER_VOTES)
        submit(setup, setup.clerk1, registered=TYPED)
        outcome = tabulation_compute(election_id=setup.election.pk)
        assert outcome.snapshot is not None
        snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()

    clerk_b = UserFactory(username=f"clerk-{setup.election.slug}-b")
    clerk_assign(actor=None, user=clerk_b, election=setup.election, station=setup.outsider_station)
    member_plain = UserFactory(username=f"member-{setup.election.slug}-plain", is_staff=True)
    member_plain.groups.add(Group.objects.get(name=ROLE_COMMISSION_MEMBER))
    administrator = UserFactory(username=f"admin-{setup.election.slug}", is_staff=True)
    administrator.groups.add(Group.objects.get(name=ROLE_ADMINISTRATOR))
    superuser = UserFactory(
        username=f"root-{setup.election.slug}", is_staff=True, is_superuser=True
    )
    objection = objection_register(
        actor=setup.member,
        election=setup.election,
        filed_at=timezone.now(),
        filed_by="Lista 1",
        subject=Objection.Subject.STATION,
        grounds="The count of station B was not public.",
        station=setup.outsider_station,
    )
    world = World(setup=setup, snapshot=outcome.snapshot, objection=objection)
    world.scan, world.public_scan, observer = _scans_and_copies(setup, outsider_round)
    # What the commits would have published (the tests run in one transaction).
    paper_publish(setup.election.pk)
    world.users = {
        "clerk_a": setup.clerk1,
        "clerk_b": clerk_b,
        "member": member_plain,
        "member_2fa": setup.member,
        "administrator": administrator,
        "superuser": superuser,
        "observer": observer,
    }
    world.clients = {"anonymous": Client()}
    for role in ("clerk_a", "clerk_b", "member", "observer"):
        world.clients[role] = Client()
        world.clients[role].force_login(world.users[role])
    for role in ("member_2fa", "administrator", "superuser"):
        world.clients[role] = verified_login(Client(), world.users[role])
    return world


def _scans_and_copies(setup: EntrySetup, outsider_round: StationRound) -> tuple[Any, Any, Any]:
    """Station A's scan by its first clerk, station B's by the commission,
    and an observer's copies of both (its photo of station A's copy)."""
    entry = RecordEntry.objects.filter(round=setup.round).get()
    scan = scan_attach(
        actor=setup.clerk1,
        round=setup.round,
        entry=entry,
        checked=scan_check(name="zapisnik-a.png", file=io.BytesIO(scan_png(1))),
    )
    public_scan = scan_attach(
        actor=setup.member,
        round=outsider_round,
        checked=scan_check(name="zapisnik-b.png", file=io.BytesIO(scan_png(2))),
    )
    user = UserFactory(username=f"observer-{setup.election.slug}")
    observer_accredit(
        actor=None, user=user, election=setup.election, organisation="CRTA", reason="accredited"
    )
    photo = scan_check(name="kopija-a.png", file=io.BytesIO(scan_png(3)))
    copy_submit(
        actor=user,
        station=setup.station,
        values=record_values(),
        votes=list(VOTES.items()),
        photo=photo,
    )
    copy_submit(
        actor=user,
        station=setup.outsider_station,
        values=record_values(registered=None),
        votes=list(OUTSIDER_VOTES.items()),
    )
    return scan, public_scan, user


def scan_png(seed: int) -> bytes:
    """A small PNG of its own: each scan of the world has its own hash."""
    buffer = io.BytesIO()
    Image.new("L", (16, 12), seed * 40).save(buffer, format="PNG")
    return buffer.getvalue()


def admin_object_ids() -> dict[str, str]:
    """For each admin route that takes an object, the primary key of an
    object of its model (the first one), by route name."""
    ids: dict[str, str] = {}
    for model in admin_site._registry:
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        for view in ("change", "delete", "history"):
            ids[prefix + view] = str(first.pk)
    return ids
