"""Coordinator forms. Validation speaks to people: every bad value becomes a field error, never a 500."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from delegates.models import Delegate, Organisation, SmsConsent
from messaging.phones import normalise_mobile

DUPLICATE_MOBILE = "Another delegate at this conference already has this mobile number: %(name)s."


def default_consent_wording(conference) -> str:
    return (
        f"I agree to receive text messages from {settings.SMS_SENDER_NAME} about votes at {conference}. "
        "I can reply STOP at any time to stop them."
    )


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "short_name",
            "gss_code",
            "region",
            "membership",
            "women_members",
            "young_members",
            "secretary_name",
            "secretary_email",
            "secretary_phone",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"region": "CLPs only: the region or nation of the constituency."}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        # The database refuses names that differ only in case; say so before it does.
        clash = Organisation.objects.named(name, excluding=self.instance).first()
        if clash:
            raise ValidationError(f"“{clash.name}” already exists. Organisation names must be unique.")
        return name

    def clean_gss_code(self):
        code = self.cleaned_data["gss_code"].strip().upper()
        if code and Organisation.objects.with_gss_code(code, excluding=self.instance).exists():
            raise ValidationError("Another organisation already has this constituency code.")
        return code


class OrganisationInput(forms.TextInput):
    """A text box with a <datalist> of every organisation: the browser filters it as you type, no JavaScript.

    Replaces a 664-option select that was unusable on a phone. One query for the names when it renders.
    """

    template_name = "delegates/widgets/organisation_input.html"

    def __init__(self, attrs=None):
        super().__init__({"list": "organisation-options", "autocomplete": "off", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = Organisation.objects.order_by("name").values_list("name", "kind", "region", "short_name")
        kinds = dict(Organisation.Kind.choices)
        context["widget"]["options"] = [
            {"name": name, "hint": " · ".join(filter(None, [kinds.get(kind, kind), short, region]))}
            for name, kind, region, short in rows
        ]
        return context


class OrganisationByNameField(forms.ModelChoiceField):
    """Chosen by typing its name (any case), short name or GSS code; an id still works for old links."""

    widget = OrganisationInput
    default_error_messages = {
        "invalid_choice": "No organisation called “%(value)s”. Pick one from the list as you type, "
        "or add the organisation first."
    }

    def prepare_value(self, value):
        if isinstance(value, Organisation):
            return value.name
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            found = self.queryset.filter(pk=int(value)).values_list("name", flat=True).first()
            return found or value
        return value

    def to_python(self, value):
        text = " ".join(str(value or "").split())
        if not text:
            return None
        match = (
            self.queryset.filter(name__iexact=text).first()
            or (self.queryset.filter(pk=int(text)).first() if text.isdigit() else None)
            or self.queryset.filter(short_name__iexact=text).first()
            or self.queryset.filter(gss_code__iexact=text).first()
        )
        if match is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text})
        return match


class DelegateForm(forms.ModelForm):
    """A delegate and, in the same submit, what they agreed to about texts (PECR consent)."""

    KEEP = ""
    RECORD = "record"
    WITHDRAW = "withdraw"

    consent_action = forms.ChoiceField(label="Record", required=False, widget=forms.RadioSelect)
    consent_method = forms.ChoiceField(
        label="How consent was given", required=False, choices=[("", "—"), *SmsConsent.Method.choices]
    )
    consent_wording = forms.CharField(
        label="What they were told, word for word",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the consent as evidence. Edit it if the delegate saw different words.",
    )
    consent_given_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty for now.",
    )
    withdrawal_reason = forms.CharField(label="Why consent is withdrawn", required=False, max_length=200)
    # Wider than the stored E.164 (16): people type spaces, brackets and "(0)". normalise_mobile limits it.
    mobile = forms.CharField(
        label="Mobile",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "07700 900123"}),
        help_text="Any UK form works: 07…, +44 7…, 0044 7…. Stored as +447….",
    )

    class Meta:
        model = Delegate
        fields = [
            "organisation",
            "first_name",
            "last_name",
            "gender",
            "seat_type",
            "is_attending",
            "mobile",
            "email",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"is_attending": "Attending conference", "seat_type": "Seat"}
        field_classes = {"organisation": OrganisationByNameField}
        help_texts = {"organisation": "Type part of the name, e.g. “Walton”, and pick it from the list."}

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.conference = conference
        if self.instance.pk is None:
            self.instance.conference = conference
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["organisation"].widget.attrs["placeholder"] = "Start typing a CLP or affiliate"
        self.current_consent = self.instance.current_sms_consent() if self.instance.pk else None
        if self.current_consent:
            self.fields["consent_action"].choices = [
                (self.KEEP, "Keep the current consent"),
                (self.RECORD, "Record new consent (replaces the current one)"),
                (self.WITHDRAW, "Withdraw consent: stop texting this delegate"),
            ]
        else:
            self.fields["consent_action"].choices = [
                (self.KEEP, "No consent: do not text this delegate"),
                (self.RECORD, "Record consent to texts"),
            ]
        self.fields["consent_action"].initial = self.KEEP
        self.fields["consent_wording"].initial = default_consent_wording(self.instance.conference)

    def clean_mobile(self):
        raw = self.cleaned_data.get("mobile", "")
        if not raw.strip():
            return ""
        e164 = normalise_mobile(raw)  # its ValidationError becomes the field's error
        clash = Delegate.objects.holding_mobile(self.instance.conference, e164, excluding=self.instance).first()
        if clash:
            raise ValidationError(DUPLICATE_MOBILE, code="duplicate", params={"name": clash.full_name})
        return e164

    def clean(self):
        data = super().clean()
        action = data.get("consent_action")
        if action == self.RECORD:
            if not data.get("consent_method"):
                self.add_error("consent_method", "Say how the delegate gave consent.")
            if not (data.get("consent_wording") or "").strip():
                self.add_error("consent_wording", "Record what the delegate was told they were agreeing to.")
            given_at = data.get("consent_given_at")
            if given_at and given_at > timezone.now():
                self.add_error("consent_given_at", "Consent cannot be given in the future.")
            if "mobile" in data and not data["mobile"]:
                self.add_error("mobile", "Add a mobile number to record consent to texts.")
        elif action == self.WITHDRAW and not (data.get("withdrawal_reason") or "").strip():
            self.add_error("withdrawal_reason", "Say why, e.g. “asked in person to stop”.")
        return data
