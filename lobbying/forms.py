"""Forms for the lobbying pages. Each keeps what was typed and shows the service's errors on their fields."""

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from delegates.forms import OrganisationByNameField, OrganisationInput
from delegates.models import Delegate, Organisation, Region, Section
from lobbying.models import ALL_LEVELS, LEVEL_LABELS, Level, Motion, MotionStatus, Result, SavedList, Subject

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


class OrganisationsInput(OrganisationInput):
    """Several organisation boxes of one name, each with the organisations' datalist (no 600-entry select).

    Renders the chosen ones plus an empty box; static/js/briefings.js adds another box on request.
    """

    template_name = "lobbying/widgets/organisations_input.html"

    def value_from_datadict(self, data, files, name):
        return [value for value in data.getlist(name) if value.strip()] if hasattr(data, "getlist") else []

    def value_omitted_from_data(self, data, files, name):
        return False  # an empty list means "any organisation"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, None, attrs)
        context["widget"]["values"] = [*(value or []), ""]
        return context


class OrganisationsByNameField(forms.Field):
    """Organisations typed by name (as OrganisationByNameField), any number; an unknown name names itself."""

    widget = OrganisationsInput

    def __init__(self, *args, **kwargs):
        super().__init__(*args, required=False, **kwargs)
        self.one = OrganisationByNameField(queryset=Organisation.objects.all(), required=False)

    def prepare_value(self, value):
        return [self.one.prepare_value(v) for v in (value or [])]

    def to_python(self, value):
        found, errors = [], []
        for text in value or []:
            try:
                organisation = self.one.clean(text)
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
            else:
                if organisation is not None and organisation not in found:
                    found.append(organisation)
        if errors:
            raise forms.ValidationError(errors)
        return found


class BriefingForm(forms.Form):
    """Compose a briefing. The service checks merge fields, length (with long names filled in) and filters;
    its errors land on these fields. Times are typed in the conference's zone."""

    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 4, "data-sms-counter": ""}),
        help_text="Merge fields: {first_name} {organisation} {motion}. The sender's name and "
        "“Reply STOP to opt out” are added to every text.",
    )
    motion = forms.ModelChoiceField(queryset=Motion.objects.none(), required=False, empty_label="No motion")
    stance_levels = forms.MultipleChoiceField(
        label="Stance on the motion",
        choices=[(level, LEVEL_LABELS[level]) for level in ALL_LEVELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any stance.",
    )
    sections = forms.MultipleChoiceField(
        choices=Section.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text="None ticked: both."
    )
    regions = forms.MultipleChoiceField(
        choices=Region.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text="None ticked: all."
    )
    organisations = OrganisationsByNameField(help_text="Type a name and pick it from the list. Empty: any.")
    saved_list = forms.ModelChoiceField(
        queryset=SavedList.objects.none(),
        required=False,
        label="Saved list",
        empty_label="Any delegate",
        help_text="Only the delegates on this list (with the filters above).",
    )
    send_at = forms.DateTimeField(
        label="Send at",
        required=False,
        input_formats=[AS_OF_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=AS_OF_FORMAT),
        help_text="Conference time. Leave the timing empty to send when you press Send.",
    )
    send_before_motion = forms.ModelChoiceField(
        queryset=Motion.objects.none(),
        required=False,
        label="Or before the debate of",
        empty_label="—",
        help_text="Moving the motion's agenda slot moves the send.",
    )
    minutes_before = forms.IntegerField(label="Minutes before its slot", required=False, min_value=0, max_value=1440)
    useless_after = forms.DateTimeField(
        label="Never send after",
        required=False,
        input_formats=[AS_OF_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=AS_OF_FORMAT),
        help_text="E.g. when the vote happens: texts not yet sent by then are skipped.",
    )

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(conference.timezone)
        self.fields["motion"].queryset = Motion.objects.for_conference(conference).order_by("title")
        self.fields["saved_list"].queryset = SavedList.objects.filter(conference=conference)
        self.fields["send_before_motion"].queryset = (
            Motion.objects.for_conference(conference).filter(scheduled_for__isnull=False).order_by("scheduled_for")
        )

    def _in_zone(self, value):
        if value is None:
            return None
        return value.replace(tzinfo=self.zone) if timezone.is_naive(value) else value.astimezone(self.zone)

    def clean_send_at(self):
        value = self._in_zone(self.cleaned_data["send_at"])
        if value is not None and value < timezone.now() - dt.timedelta(minutes=1):
            raise forms.ValidationError("That time has passed. Leave it empty to send when you press Send.")
        return value

    def clean_useless_after(self):
        value = self._in_zone(self.cleaned_data["useless_after"])
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("That time has passed: nothing could be sent.")
        return value

    def clean(self):
        data = super().clean()
        send_at, useless_after = data.get("send_at"), data.get("useless_after")
        if send_at and useless_after and useless_after <= send_at:
            self.add_error("useless_after", "This must be after the send time.")
        if send_at and data.get("send_before_motion"):
            self.add_error("send_before_motion", "Give either a time or a motion to send before, not both.")
        elif data.get("send_before_motion") and data.get("minutes_before") is None:
            self.add_error("minutes_before", "Say how many minutes before the motion's slot.")
        elif data.get("minutes_before") is not None and not data.get("send_before_motion"):
            self.add_error("send_before_motion", "Choose the motion whose slot the minutes count from.")
        return data

    @property
    def timing(self) -> dict | None:
        """schedule_briefing's arguments, or None to keep it a draft sent by hand."""
        data = self.cleaned_data
        if data.get("send_at"):
            return {"at": data["send_at"]}
        if data.get("send_before_motion"):
            return {"before_motion": data["send_before_motion"], "minutes_before": data["minutes_before"]}
        return None

    def audience_data(self) -> dict:
        names = (
            "body",
            "motion",
            "stance_levels",
            "sections",
            "regions",
            "organisations",
            "saved_list",
            "useless_after",
        )
        return {name: self.cleaned_data[name] for name in names}


# schedule_briefing's error keys, as the form's fields.
SCHEDULE_FIELDS = {"at": "send_at", "before_motion": "send_before_motion", "minutes_before": "minutes_before"}


class ScheduleForm(forms.Form):
    """Re-time a draft or scheduled briefing: at a time, or minutes before a motion's agenda slot."""

    send_at = BriefingForm.base_fields["send_at"]
    send_before_motion = BriefingForm.base_fields["send_before_motion"]
    minutes_before = BriefingForm.base_fields["minutes_before"]

    def __init__(self, *args, conference, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(conference.timezone)
        self.fields["send_before_motion"].queryset = (
            Motion.objects.for_conference(conference).filter(scheduled_for__isnull=False).order_by("scheduled_for")
        )

    clean_send_at = BriefingForm.clean_send_at
    _in_zone = BriefingForm._in_zone

    def clean(self):
        data = super().clean()
        if not data.get("send_at") and not data.get("send_before_motion") and not self.errors:
            raise forms.ValidationError("Give a time, or a motion and the minutes before its slot.")
        if data.get("send_at") and data.get("send_before_motion"):
            self.add_error("send_before_motion", "Give either a time or a motion to send before, not both.")
        elif data.get("send_before_motion") and data.get("minutes_before") is None:
            self.add_error("minutes_before", "Say how many minutes before the motion's slot.")
        return data

    timing = BriefingForm.timing


def apply_schedule_errors(form, exc):
    """schedule_briefing's errors on the form's timing fields."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            field = SCHEDULE_FIELDS.get(key, key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
