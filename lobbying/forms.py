"""Forms for the lobbying pages. Each keeps what was typed and shows the service's errors on their fields."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from delegates.models import Delegate, Organisation, Region
from lobbying.models import Level, Motion, MotionStatus, Result, Subject

AS_OF_FORMAT = "%Y-%m-%dT%H:%M"


class AsOfForm(forms.Form):
    """A past moment for the whip count, typed in the conference's time zone (a datetime-local field)."""

    as_of = forms.DateTimeField(
        label="As of",
        required=False,
        input_formats=[AS_OF_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=AS_OF_FORMAT),
        help_text="Leave empty for now (live).",
    )

    def __init__(self, *args, conference=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(conference.timezone) if conference else dt.UTC

    def clean_as_of(self):
        value = self.cleaned_data["as_of"]
        if value is None:
            return None
        # Typed as wall-clock time at the conference, whatever the server's zone.
        value = value.replace(tzinfo=self.zone) if timezone.is_naive(value) else value.astimezone(self.zone)
        if value > timezone.now():
            raise forms.ValidationError("Choose a moment in the past, or leave it empty for now.")
        return value


def read_as_of(request, conference):
    """(as_of or None, the bound form): a bad value shows its error and the count falls back to now."""
    form = AsOfForm(request.GET or None, conference=conference)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["as_of"], form
    return None, form


def apply_errors(form, exc):
    """Show a service's ValidationError on the form's fields (unknown fields and __all__ go to the top)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class MotionForm(forms.Form):
    """Word limits are checked by the service (Motion.clean) with the conference's rules; the page counts live."""

    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))
    kind = forms.ChoiceField(choices=Motion.Kind.choices)
    position = forms.ChoiceField(choices=Motion.Position.choices, label="Campaign's position")
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), required=False, empty_label="Not yet grouped")
    is_campaign_motion = forms.BooleanField(required=False, label="Our own motion (track CLP submissions)")

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = Subject.objects.filter(conference=conference)
        self.fields["title"].widget.attrs["data-word-limit"] = conference.motion_title_max_words
        self.fields["text"].widget.attrs["data-word-limit"] = conference.motion_text_max_words
        self.fields["title"].help_text = f"At most {conference.motion_title_max_words} words."
        self.fields["text"].help_text = f"At most {conference.motion_text_max_words} words."


class CompositeForm(forms.Form):
    """Motions of one subject merged into a numbered composite; the service checks subject, status and number."""

    motions = forms.ModelMultipleChoiceField(
        queryset=Motion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Prioritised motions, all of one subject.",
    )
    number = forms.IntegerField(label="Composite number", min_value=1, max_value=999)
    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    mover = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False, empty_label="Not yet agreed")
    seconder = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), required=False, empty_label="Not yet agreed"
    )
    position = forms.ChoiceField(
        choices=[("", "As the motions merged"), *Motion.Position.choices], required=False, label="Campaign's position"
    )

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motions"].queryset = (
            Motion.objects.for_conference(conference)
            .filter(status=MotionStatus.PRIORITISED)
            .exclude(kind=Motion.Kind.COMPOSITE)
            .select_related("subject")
            .order_by("subject__name", "title", "pk")
        )
        self.fields["motions"].label_from_instance = lambda m: f"{m.subject or 'No subject'}: {m.title}"
        organisations = Organisation.objects.order_by("name")
        self.fields["mover"].queryset = organisations
        self.fields["seconder"].queryset = organisations
        self.fields["title"].widget.attrs["data-word-limit"] = conference.motion_title_max_words
        self.fields["text"].widget.attrs["data-word-limit"] = conference.motion_text_max_words

    def clean(self):
        data = super().clean()
        if data.get("mover") and data.get("mover") == data.get("seconder"):
            self.add_error("seconder", "The seconder must be another organisation than the mover.")
        return data


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=MotionStatus.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scheduled_for = forms.DateTimeField(
        required=False,
        input_formats=[AS_OF_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=AS_OF_FORMAT),
        label="Day and time of the debate",
    )
    session = forms.CharField(required=False, max_length=100)


class ResultForm(forms.Form):
    method = forms.ChoiceField(choices=Result.Method.choices, initial=Result.Method.CARD)
    card_vote_number = forms.IntegerField(required=False, min_value=1, max_value=999)
    clp_for = forms.DecimalField(label="CLPs for %", max_digits=5, decimal_places=2, min_value=0, max_value=100)
    clp_against = forms.DecimalField(label="CLPs against %", max_digits=5, decimal_places=2, min_value=0, max_value=100)
    affiliates_for = forms.DecimalField(
        label="Affiliates for %", max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    affiliates_against = forms.DecimalField(
        label="Affiliates against %", max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    total_for = forms.DecimalField(label="Total for %", max_digits=5, decimal_places=2, min_value=0, max_value=100)
    total_against = forms.DecimalField(
        label="Total against %", max_digits=5, decimal_places=2, min_value=0, max_value=100
    )


class ConversationForm(forms.Form):
    """One tap: which stance the delegate took in the conversation."""

    delegate = forms.IntegerField(widget=forms.HiddenInput)
    level = forms.ChoiceField(choices=Level.choices)
    note = forms.CharField(required=False, max_length=500)


class AssignmentForm(forms.Form):
    volunteer_name = forms.CharField(max_length=200)
    volunteer_mobile = forms.CharField(max_length=40, required=False, help_text="Optional; any UK mobile format.")
    motion = forms.ModelChoiceField(queryset=Motion.objects.none())
    ask = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="What to ask, in a sentence or two.")
    delegates = forms.ModelMultipleChoiceField(
        queryset=Delegate.objects.none(), widget=forms.CheckboxSelectMultiple, help_text="Who they should talk to."
    )

    def __init__(self, *args, conference, delegate_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motion"].queryset = Motion.objects.for_conference(conference).tracked()
        self.fields["delegates"].queryset = delegate_choices


class AddSubmissionForm(forms.Form):
    """Put a CLP or affiliate into the campaign motion's pipeline (at "contacted")."""

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), empty_label="Choose…")
    local_contact = forms.CharField(max_length=200, required=False, help_text="Who we talk to there.")
    meeting_on = forms.DateField(
        required=False, label="Meeting date", widget=forms.DateInput(attrs={"type": "date"}), help_text="If known."
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, motion, **kwargs):
        super().__init__(*args, **kwargs)
        # Those already in the pipeline are left out; the service refuses them anyway (two coordinators at once).
        self.fields["organisation"].queryset = Organisation.objects.exclude(
            pk__in=motion.submissions.values("organisation")
        ).order_by("name")


class PipelineFilterForm(forms.Form):
    motion = forms.ModelChoiceField(queryset=Motion.objects.none(), required=False, empty_label=None)
    region = forms.ChoiceField(choices=[("", "All regions"), *Region.choices], required=False)

    def __init__(self, *args, motions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motion"].queryset = motions
