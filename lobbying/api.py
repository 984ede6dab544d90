"""The coordinators' API for motions, submissions, stance changes and whip counts.

Input serializers validate shapes; every write goes through `lobbying.services`, whose ValidationError becomes a
400 with per-field messages (config.api.exception_handler). Stance changes are append-only: POST records one.
"""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from delegates.api import Pagination
from delegates.models import Conference, Delegate, Organisation, Region
from lobbying import selectors, services, whip_panels
from lobbying.models import ALL_LEVELS, Level, Motion, MotionStatus, Result, StanceChange, Subject, Submission


def _conference(request) -> Conference:
    value = request.query_params.get("conference", "").strip()
    if not value:
        conference = Conference.current()
        if conference is None:
            raise ValidationError({"conference": ["There is no conference yet."]})
        return conference
    if not value.isdigit():
        raise ValidationError({"conference": ["Give the conference's id, a whole number."]})
    conference = Conference.objects.filter(pk=int(value)).first()
    if conference is None:
        raise ValidationError({"conference": [f"No conference with id {value}."]})
    return conference


CONFERENCE_PARAMETER = OpenApiParameter(
    "conference", OpenApiTypes.INT, description="Conference id; defaults to the current conference."
)


# Motions -----------------------------------------------------------------------------------------------------------


class ResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = Result
        fields = [
            "method",
            "card_vote_number",
            "clp_for",
            "clp_against",
            "affiliates_for",
            "affiliates_against",
            "total_for",
            "total_against",
            "recorded_at",
        ]
        read_only_fields = ["recorded_at"]


class MotionSerializer(serializers.ModelSerializer):
    subject = serializers.PrimaryKeyRelatedField(queryset=Subject.objects.all(), required=False, allow_null=True)
    subject_name = serializers.CharField(source="subject.name", read_only=True, default=None, allow_null=True)
    submitted_by = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), many=True, required=False)
    result = ResultSerializer(read_only=True, allow_null=True)
    title_words = serializers.IntegerField(read_only=True)
    text_words = serializers.IntegerField(read_only=True)

    class Meta:
        model = Motion
        fields = [
            "id",
            "conference",
            "subject",
            "subject_name",
            "title",
            "text",
            "title_words",
            "text_words",
            "kind",
            "position",
            "is_campaign_motion",
            "status",
            "submitted_by",
            "cac_reason",
            "composite",
            "composite_number",
            "mover",
            "seconder",
            "scheduled_for",
            "session",
            "result",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "conference",
            "status",
            "cac_reason",
            "composite",
            "composite_number",
            "mover",
            "seconder",
            "scheduled_for",
            "session",
            "result",
            "created_at",
            "updated_at",
        ]


class TransitionSerializer(serializers.Serializer):
    # Draft is only a start; composited, carried and lost come from creating a composite or recording a result.
    to_status = serializers.ChoiceField(
        choices=[(v, label) for v, label in MotionStatus.choices if v not in ("draft", "composited", "carried", "lost")]
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True, default=None)
    session = serializers.CharField(required=False, allow_blank=True, default=None, max_length=100)


class ResultInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Result.Method.choices, default=Result.Method.CARD)
    card_vote_number = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)
    clp_for = serializers.DecimalField(max_digits=5, decimal_places=2)
    clp_against = serializers.DecimalField(max_digits=5, decimal_places=2)
    affiliates_for = serializers.DecimalField(max_digits=5, decimal_places=2)
    affiliates_against = serializers.DecimalField(max_digits=5, decimal_places=2)
    total_for = serializers.DecimalField(max_digits=5, decimal_places=2)
    total_against = serializers.DecimalField(max_digits=5, decimal_places=2)


class CompositeSerializer(serializers.Serializer):
    motions = serializers.PrimaryKeyRelatedField(queryset=Motion.objects.all(), many=True)
    number = serializers.IntegerField(min_value=1, max_value=999)
    title = serializers.CharField(max_length=200)
    text = serializers.CharField()
    mover = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), required=False, allow_null=True)
    seconder = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), required=False, allow_null=True)
    position = serializers.ChoiceField(choices=Motion.Position.choices, required=False, allow_null=True)


class MotionFilter(django_filters.FilterSet):
    class Meta:
        model = Motion
        fields = ["status", "kind", "position", "subject", "is_campaign_motion"]


@extend_schema_view(
    list=extend_schema(summary="Motions of one conference", parameters=[CONFERENCE_PARAMETER]),
    retrieve=extend_schema(summary="One motion, with its result"),
    create=extend_schema(
        summary="Add a motion (word limits from the conference's rules)", parameters=[CONFERENCE_PARAMETER]
    ),
    update=extend_schema(summary="Replace a motion's words and details"),
    partial_update=extend_schema(summary="Change some of a motion's words and details"),
)
class MotionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MotionSerializer
    filterset_class = MotionFilter
    pagination_class = Pagination
    ordering_fields = ["title", "scheduled_for", "created_at"]
    ordering = ["scheduled_for", "title", "pk"]

    def get_queryset(self):
        queryset = Motion.objects.select_related("subject", "result").prefetch_related("submitted_by")
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(conference=_conference(self.request))
        return queryset

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.create_motion(
            conference=_conference(self.request), created_by=self.request.user, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        submitted_by = data.pop("submitted_by", None)
        serializer.instance = services.update_motion(
            motion=serializer.instance, changed_by=self.request.user, submitted_by=submitted_by, **data
        )

    @extend_schema(
        summary="Move a motion along its life cycle", request=TransitionSerializer, responses=MotionSerializer
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        motion = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        motion = services.transition_motion(motion=motion, changed_by=request.user, **data.validated_data)
        return Response(MotionSerializer(self.get_queryset().get(pk=motion.pk)).data)

    @extend_schema(
        summary="Merge prioritised motions of one subject into a numbered composite",
        request=CompositeSerializer,
        responses={201: MotionSerializer},
    )
    @action(detail=False, methods=["post"])
    def composite(self, request):
        data = CompositeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        composite = services.create_composite(created_by=request.user, **data.validated_data)
        return Response(MotionSerializer(self.get_queryset().get(pk=composite.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Record the vote's result", request=ResultInputSerializer, responses=MotionSerializer)
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        motion = self.get_object()
        data = ResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_result(motion=motion, recorded_by=request.user, **data.validated_data)
        return Response(MotionSerializer(self.get_queryset().get(pk=motion.pk)).data, status=status.HTTP_201_CREATED)


# Submissions -------------------------------------------------------------------------------------------------------


class SubmissionSerializer(serializers.ModelSerializer):
    motion = serializers.PrimaryKeyRelatedField(queryset=Motion.objects.all())
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all())
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    region = serializers.CharField(source="organisation.region", read_only=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "motion",
            "organisation",
            "organisation_name",
            "region",
            "stage",
            "stage_changed_at",
            "meeting_on",
            "local_contact",
            "notes",
            "created_at",
        ]
        read_only_fields = ["stage", "stage_changed_at", "created_at"]


class MoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Submission.Stage.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    meeting_on = serializers.DateField(required=False, allow_null=True, default=None)


class SubmissionFilter(django_filters.FilterSet):
    region = django_filters.ChoiceFilter(field_name="organisation__region", choices=Region.choices)

    class Meta:
        model = Submission
        fields = ["motion", "stage", "region"]


@extend_schema_view(
    list=extend_schema(summary="The campaign's submissions pipeline"),
    retrieve=extend_schema(summary="One organisation's progress with a motion"),
    create=extend_schema(summary="Start tracking an organisation (stage: contacted)"),
)
class SubmissionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = SubmissionSerializer
    filterset_class = SubmissionFilter
    pagination_class = Pagination
    ordering_fields = ["stage_changed_at", "created_at"]
    ordering = ["stage_changed_at", "pk"]

    def get_queryset(self):
        return Submission.objects.select_related("organisation")

    def perform_create(self, serializer):
        serializer.instance = services.start_submission(changed_by=self.request.user, **serializer.validated_data)

    @extend_schema(
        summary="Move a submission to its next stage", request=MoveSerializer, responses=SubmissionSerializer
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        submission = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.move_submission(submission=submission, changed_by=request.user, **data.validated_data)
        return Response(SubmissionSerializer(self.get_queryset().get(pk=submission.pk)).data)


# Stance changes ----------------------------------------------------------------------------------------------------


class StanceChangeSerializer(serializers.ModelSerializer):
    delegate = serializers.PrimaryKeyRelatedField(
        queryset=Delegate.objects.all(), error_messages={"does_not_exist": "No delegate with id {pk_value}."}
    )
    motion = serializers.PrimaryKeyRelatedField(
        queryset=Motion.objects.all(), error_messages={"does_not_exist": "No motion with id {pk_value}."}
    )
    level = serializers.ChoiceField(choices=Level.choices)
    source = serializers.ChoiceField(choices=StanceChange.Source.choices, default=StanceChange.Source.COORDINATOR)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StanceChange
        fields = ["id", "delegate", "motion", "level", "source", "confidence", "note", "at", "recorded_by"]
        read_only_fields = ["at", "recorded_by"]


class StanceChangeFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="At or after (ISO 8601)")

    class Meta:
        model = StanceChange
        fields = ["motion", "delegate", "level", "source", "since"]


@extend_schema_view(
    list=extend_schema(summary="Stance history (append-only), newest first"),
    retrieve=extend_schema(summary="One recorded stance"),
    create=extend_schema(summary="Record a delegate's stance on a motion"),
)
class StanceChangeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = StanceChangeSerializer
    filterset_class = StanceChangeFilter
    pagination_class = Pagination
    ordering_fields = ["at"]
    ordering = ["-at", "-pk"]

    def get_queryset(self):
        return StanceChange.objects.select_related("recorded_by")

    def perform_create(self, serializer):
        serializer.instance = services.record_stance(recorded_by=self.request.user, **serializer.validated_data)


# Whip counts -------------------------------------------------------------------------------------------------------


class WhipQuerySerializer(serializers.Serializer):
    motion = serializers.PrimaryKeyRelatedField(
        queryset=Motion.objects.all(), required=False, help_text="One motion; default: every tracked motion."
    )
    subject = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.select_related("conference"),
        required=False,
        help_text="One subject's count over its tracked motions, from the campaign's side (see the docs).",
    )
    as_of = serializers.DateTimeField(required=False, help_text="A past moment (ISO 8601); default: now.")


class WhipCountView(APIView):
    """Whip counts computed in the database: by stance, section and region, in delegates and weighted shares."""

    @extend_schema(
        summary="Whip counts (optionally as of a past moment)",
        parameters=[
            CONFERENCE_PARAMETER,
            OpenApiParameter("motion", OpenApiTypes.INT, description="One motion; default: every tracked motion."),
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="A past moment (ISO 8601); default: now."),
            OpenApiParameter(
                "subject",
                OpenApiTypes.INT,
                description="One subject (priorities-ballot topic): a delegate's latest stance on any of its tracked "
                "motions, read from the campaign's side (for a motion we oppose counts as against).",
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = WhipQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        subject = query.validated_data.get("subject")
        motion = query.validated_data.get("motion")
        as_of = query.validated_data.get("as_of")
        if subject is not None:
            conference = subject.conference

            def compute():
                counts = selectors.whip_counts_by_subject(conference=conference, subjects=[subject], as_of=as_of)
                return [_whip_json(count) for count in counts]
        else:
            conference = motion.conference if motion else _conference(request)

            def compute():
                motions = [motion] if motion else list(selectors.motions_for_dashboard(conference))
                counts = selectors.whip_counts(conference=conference, motions=motions, as_of=as_of)
                return [_whip_json(count) for count in counts]

        # Shared by every caller until the whip's data changes (lobbying/whip_panels.py).
        parts = ("api", subject.pk if subject else None, motion.pk if motion else None, as_of)
        results = whip_panels.cached_whip(conference=conference, parts=parts, compute=compute)
        return Response({"as_of": as_of, "levels": ALL_LEVELS, "results": results})


def _whip_json(count) -> dict:
    motion = count["motion"]
    if motion is None:  # a subject's count
        head = {"subject": count["subject"].pk, "title": count["subject"].name, "position": "campaign"}
    else:
        head = {"motion": motion.pk, "title": str(motion), "position": motion.position}
    return {
        **head,
        "levels": [
            {
                "level": row["level"],
                "delegates": row["delegates"],
                "share": round(row["share"], 3),
                "by_section": {
                    section: {
                        "delegates": cell["delegates"],
                        "card_vote": round(cell["votes"], 1),
                        "percent_of_section": round(cell["percent"], 3),
                        "share": round(cell["share"], 3),
                    }
                    for section, cell in row["by_section"].items()
                },
            }
            for row in count["levels"]
        ],
        "regions": [
            {
                "region": region["region"],
                "delegates": region["delegates"],
                "levels": {
                    cell["level"]: {"delegates": cell["delegates"], "percent": round(cell["percent"], 3)}
                    for cell in region["levels"]
                },
            }
            for region in count["regions"]
        ],
        "section_weights": count["weights"],
        "for_share": round(count["for_share"], 3),
        "against_share": round(count["against_share"], 3),
        "undecided_share": round(count["swing_share"], 3),
        "projected_for": None if count["projected_for"] is None else round(count["projected_for"], 3),
        "margin": round(count["margin"], 3),
        "projected_outcome": count["projected_outcome"],
        "could_swing": count["could_swing"],
    }
