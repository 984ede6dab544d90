"""Forms for the public sign-up page and the coordinator pages. Every bad value is a field error."""

import uuid

from django import forms
from django.core.exceptions import ValidationError

from messaging.phones import normalise_mobile
from volunteers.models import Location, Role, Shift, Volunteer
from volunteers.services import CONSENT_WORDING


class SignupForm(forms.Form):
    name = forms.CharField(max_length=120, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"}))
    mobile = forms.CharField(
        max_length=40,
        label="Mobile number",
        help_text="We text your confirmation and reminders here. UK mobiles start 07.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        required=False, label="Email (optional)", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    consent = forms.BooleanField(
        label=CONSENT_WORDING,
        error_messages={"required": "Please tick the box: we need to text you about your shift."},
    )
    # One-time token: a double tap or a retry after a dropped response signs up once.
    form_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Enter your name.")
        return name

    def clean_mobile(self):
        return normalise_mobile(self.cleaned_data["mobile"])


class AssignForm(forms.Form):
    """A coordinator puts a known volunteer on a shift, or a new one (name + mobile)."""

    volunteer = forms.ModelChoiceField(
        queryset=Volunteer.objects.order_by("name"), required=False, label="Existing volunteer"
    )
    name = forms.CharField(max_length=120, required=False, label="…or a new volunteer's name")
    mobile = forms.CharField(
        max_length=40, required=False, label="New volunteer's mobile", widget=forms.TextInput(attrs={"type": "tel"})
    )
    consent = forms.BooleanField(required=False, label="They agreed to texts about their shifts (we record this)")

    def clean_mobile(self):
        raw = self.cleaned_data["mobile"]
        return normalise_mobile(raw) if raw.strip() else ""

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not data.get("volunteer") and not (data.get("name") and data.get("mobile")):
            raise ValidationError("Choose a volunteer, or give a new volunteer's name and mobile.")
        if not data.get("volunteer") and not data.get("consent"):
            self.add_error("consent", "Record that the new volunteer agreed to texts, or they cannot be texted.")
        return data


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["role", "location", "starts_at", "ends_at", "capacity", "minimum", "notes"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = Location.objects.filter(conference=conference)

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "A shift must end after it starts.")
        capacity, minimum = data.get("capacity"), data.get("minimum")
        if capacity is not None and minimum is not None and minimum > capacity:
            self.add_error("minimum", "The minimum cannot be more than the capacity.")
        return data

    def validate_constraints(self):
        """The checks above say it in words; the database constraints stay as the backstop."""


class CopyDayForm(forms.Form):
    to_day = forms.DateField(label="Copy this day's shifts to", widget=forms.DateInput(attrs={"type": "date"}))


class RoleFilterForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "All roles"), *Role.choices], required=False)
