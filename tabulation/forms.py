"""Forms: thin. They collect what was typed; the checks are the domain's."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tabulation.domain.checks import votes_field
from tabulation.domain.record import TOTALS_FIELDS
from tabulation.domain.record import Finding as DomainFinding
from tabulation.models import ElectoralList, RecordEntry
from tabulation.selectors.stations import finding_text


class CountInput(forms.TextInput):
    """A number field that brings up the digit keypad on a phone, without
    the browser's own number validation (the checks explain errors better)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off", **(attrs or {})}
        )


def _count_field(label: Any) -> forms.CharField:
    field = forms.CharField(label=label, required=False, max_length=40, widget=CountInput())
    # No null-character or length validators of its own: every problem with
    # what was typed is reported by the checks, as E1, field by field.
    field.validators = []
    field.max_length = None
    return field


class RecordEntryForm(forms.Form):
    """The polling-board record, field by field in the paper's order, then
    every list in ballot order.

    `cleaned_data` keeps the typed strings; the service parses them.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
    round_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        lists: Sequence[ElectoralList],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lists = list(lists)
        for name in TOTALS_FIELDS:
            self.fields[name] = _count_field(RecordEntry.field_label(name))
        for electoral_list in self.lists:
            field = _count_field(f"{electoral_list.ballot_number}. {electoral_list.name}")
            field.widget.attrs["data-vote"] = "1"
            self.fields[votes_field(electoral_list.ballot_number)] = field
        # A CharField with radio buttons rather than a ChoiceField: an
        # unexpected value is reported by the checks (E1), like any other.
        control_sheet = forms.CharField(
            label=_("Control sheet in the box, completed and signed"),
            widget=forms.RadioSelect(choices=[("yes", _("yes")), ("no", _("no"))]),
            required=False,
        )
        control_sheet.validators = []
        self.fields["control_sheet_ok"] = control_sheet
        self.fields["board_signatures"] = _count_field(_("Board members who signed the record"))
        for hidden in ("idempotency_key", "round_version"):
            self.fields[hidden].validators = []
        # An empty key on first render: one per rendered form, so a double
        # click sends the same key twice and stores one entry.
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def count_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TOTALS_FIELDS]

    def vote_fields(self) -> list[forms.BoundField]:
        return [self[votes_field(item.ballot_number)] for item in self.lists]

    def values(self) -> dict[str, object]:
        """The typed values of the counts and the control sheet."""
        data = self.cleaned_data
        values: dict[str, object] = {name: data.get(name) for name in TOTALS_FIELDS}
        values["board_signatures"] = data.get("board_signatures")
        values["control_sheet_ok"] = data.get("control_sheet_ok")
        return values

    def votes(self) -> list[tuple[object, object]]:
        """(ballot number, typed votes) for every list on the ballot, plus any
        `votes[...]` key the request carried that is not on it (E2)."""
        pairs: list[tuple[object, object]] = [
            (item.ballot_number, self.cleaned_data.get(votes_field(item.ballot_number)))
            for item in self.lists
        ]
        known = {votes_field(item.ballot_number) for item in self.lists}
        for key in self.data:
            if key.startswith("votes[") and key.endswith("]") and key not in known:
                pairs.append((key[len("votes[") : -1], self.data.get(key)))
        return pairs

    def add_findings(self, findings: Sequence[DomainFinding]) -> None:
        """Show E findings next to the fields they name."""
        for finding in findings:
            text = f"{finding.code}: {finding_text(finding)}"
            field = finding.fields[0] if finding.fields else None
            self.add_error(field if field in self.fields else None, text)


# --- The commission's decisions (services/decisions.py) ----------------------------------


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with the decision and in the audit trail."),
    )


class ReconcileForm(forms.Form):
    ACTIONS = (
        ("keep_1", _("Keep the first entry")),
        ("keep_2", _("Keep the second entry")),
        ("return", _("Return the station for entry again")),
    )

    choice = forms.ChoiceField(label=_("Decision"), choices=ACTIONS, widget=forms.RadioSelect)
    reason = _reason_field()
    round_version = forms.CharField(widget=forms.HiddenInput, required=False)


class CorrectForm(RecordEntryForm):
    """The corrected record, typed by a member after inspecting the material."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = _reason_field()


class AcknowledgeForm(forms.Form):
    finding = forms.IntegerField(widget=forms.HiddenInput)
    reason = _reason_field()


class AnnulForm(forms.Form):
    ground = forms.ChoiceField(label=_("Ground"), choices=())
    voting_date = forms.DateField(
        label=_("Repeat vote on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = _reason_field()
    round_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, grounds: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = list(grounds)  # type: ignore[attr-defined]


class ObjectionForm(forms.Form):
    SUBJECTS = (
        ("result", _("the provisional result")),
        ("station", _("a polling station's result")),
        ("decision", _("a decision of the commission")),
    )

    filed_at = forms.DateTimeField(
        label=_("Filed at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    filed_by = forms.CharField(label=_("Filed by"), max_length=300)
    subject = forms.ChoiceField(label=_("Against"), choices=SUBJECTS)
    station = forms.CharField(label=_("Polling station (code)"), required=False, max_length=50)
    decision = forms.IntegerField(label=_("Decision (number)"), required=False, min_value=1)
    grounds = forms.CharField(label=_("Grounds"), widget=forms.Textarea(attrs={"rows": 3}))


class ObjectionDecideForm(forms.Form):
    OUTCOMES = (("upheld", _("Uphold")), ("rejected", _("Reject")))

    outcome = forms.ChoiceField(label=_("Decision"), choices=OUTCOMES, widget=forms.RadioSelect)
    reason = _reason_field()


class LotsForm(forms.Form):
    order = forms.CharField(
        label=_("Ballot numbers in the order drawn"),
        help_text=_("First drawn first, separated by commas: 4, 2"),
        max_length=200,
    )
    reason = _reason_field()

    def clean_order(self) -> list[int]:
        parts = [part.strip() for part in self.cleaned_data["order"].split(",") if part.strip()]
        if not parts or not all(part.isdigit() and len(part) <= 6 for part in parts):
            raise forms.ValidationError(_("Give ballot numbers separated by commas."))
        return [int(part) for part in parts]
