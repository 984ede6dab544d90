"""The coordinators' API for briefings and saved lists: thin views over `lobbying.briefings`.

Input serializers check shapes; the services check meaning and raise ValidationError keyed by field, which
config.api.exception_handler turns into a 400 with per-field messages. Every action answers with the briefing as
it is afterwards (or the preview, send result, progress).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from delegates.api import Pagination
from delegates.models import Delegate, Organisation, Region, Section
from lobbying import briefings, selectors
from lobbying.api import CONFERENCE_PARAMETER, _conference
from lobbying.models import ALL_LEVELS, Briefing, Motion, SavedList

BAD_INPUT = OpenApiResponse(
    response=OpenApiTypes.OBJECT, description='Bad input or a refused move: per-field messages, e.g. {"status": [...]}'
)
NOT_FOUND = OpenApiResponse(description="No such briefing.")


def _motion_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=Motion.objects.all(), error_messages={"does_not_exist": "No motion with id {pk_value}."}, **kwargs
    )


class BriefingSerializer(serializers.ModelSerializer):
    """A briefing as stored: its body, its audience as filters, its status and timing."""

    organisations = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    minutes_before = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="When a scheduled briefing goes.")

    class Meta:
        model = Briefing
        fields = [
            "id",
            "conference",
            "motion",
            "body",
            "stance_levels",
            "sections",
            "regions",
            "organisations",
            "saved_list",
            "status",
            "send_at",
            "send_before_motion",
            "minutes_before",
            "due_at",
            "useless_after",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_minutes_before(self, briefing) -> int | None:
        return int(briefing.send_lead.total_seconds() // 60) if briefing.send_lead is not None else None


class ComposeSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=2000, help_text="Merge fields: {first_name} {organisation} {motion}.")
    motion = _motion_field(required=False, allow_null=True, default=None)
    stance_levels = serializers.ListField(child=serializers.ChoiceField(choices=ALL_LEVELS), required=False)
    sections = serializers.ListField(child=serializers.ChoiceField(choices=Section.choices), required=False)
    regions = serializers.ListField(child=serializers.ChoiceField(choices=Region.choices), required=False)
    organisations = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": "No organisation with id {pk_value}."},
    )
    saved_list = serializers.PrimaryKeyRelatedField(
        queryset=SavedList.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        error_messages={"does_not_exist": "No saved list with id {pk_value}."},
    )
    useless_after = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="A time (ISO 8601).")
    before_motion = _motion_field(
        required=False, allow_null=True, default=None, help_text="Or: go this long before the motion's agenda slot."
    )
    minutes_before = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)


class ExampleSerializer(serializers.Serializer):
    delegate_id = serializers.IntegerField()
    name = serializers.CharField()
    text = serializers.CharField(
        help_text="Exactly what the phone shows: sender name, body, STOP line, and on a first text the privacy line."
    )
    segments = serializers.IntegerField()
    first_contact = serializers.BooleanField(
        help_text="Our first campaign text to this number: it also links the privacy notice."
    )


class PreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    segments = serializers.IntegerField(
        help_text="For the whole briefing, summed over recipients (first texts include the privacy line)."
    )
    max_segments = serializers.IntegerField()
    first_contacts = serializers.IntegerField(help_text="Recipients whose text also links the privacy notice.")
    encoding = serializers.CharField()
    cost = serializers.DecimalField(max_digits=10, decimal_places=4)
    examples = ExampleSerializer(many=True)


class SendResultSerializer(serializers.Serializer):
    briefing = BriefingSerializer()
    recipients = serializers.IntegerField(help_text="The frozen audience.")
    queued = serializers.IntegerField(help_text="Texts queued by this call (0 when sent before).")
    skipped = serializers.IntegerField()
    already_queued = serializers.IntegerField(help_text="Texts an earlier send had queued: nothing queued twice.")


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    queued = serializers.IntegerField(help_text="Waiting for a worker.")
    held = serializers.IntegerField(help_text="Held while the briefing is paused.")
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    unknown = serializers.IntegerField()
    skipped = serializers.IntegerField()
    replied = serializers.IntegerField()
    percent_done = serializers.FloatField()


class MobileSerializer(serializers.Serializer):
    mobile = serializers.CharField(allow_blank=True, max_length=32, help_text="Your own UK mobile; empty removes it.")


def _briefing_json(briefing) -> dict:
    briefing = Briefing.objects.with_due_at().prefetch_related("organisations").get(pk=briefing.pk)
    return BriefingSerializer(briefing).data


def _action_schema(summary, request=None, response=BriefingSerializer):
    return extend_schema(summary=summary, request=request, responses={200: response, 400: BAD_INPUT, 404: NOT_FOUND})


@extend_schema_view(
    list=extend_schema(summary="Briefings of a conference, newest first", parameters=[CONFERENCE_PARAMETER]),
    retrieve=extend_schema(summary="One briefing", responses={200: BriefingSerializer, 404: NOT_FOUND}),
)
class BriefingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = BriefingSerializer
    pagination_class = Pagination
    filterset_fields = ["status", "motion"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        queryset = Briefing.objects.with_due_at().select_related("created_by").prefetch_related("organisations")
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(conference=_conference(self.request))
        return queryset

    @extend_schema(
        summary="Compose a draft briefing (body with merge fields, audience as filters)",
        parameters=[CONFERENCE_PARAMETER],
        request=ComposeSerializer,
        responses={201: BriefingSerializer, 400: BAD_INPUT},
    )
    def create(self, request):
        data = ComposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        briefing = briefings.compose_briefing(
            conference=_conference(request), created_by=request.user, **data.validated_data
        )
        return Response(_briefing_json(briefing), status=status.HTTP_201_CREATED)

    @_action_schema("Count, segments, cost and what three real recipients would receive", response=PreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        preview = briefings.preview_briefing(briefing=self.get_object())
        return Response(PreviewSerializer(preview).data)

    @_action_schema("Freeze the audience and queue every text (twice is harmless)", response=SendResultSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        result = briefings.send_briefing(briefing=self.get_object(), sent_by=request.user)
        payload = {
            "briefing": _briefing_json(result.briefing),
            "recipients": result.recipients,
            "queued": result.queued,
            "skipped": result.skipped,
            "already_queued": result.already_queued,
        }
        return Response(payload)

    @_action_schema("Send later: at a time, or N minutes before a motion's agenda slot", request=ScheduleSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        data = ScheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        briefing = briefings.schedule_briefing(briefing=self.get_object(), by=request.user, **data.validated_data)
        return Response(_briefing_json(briefing))

    @_action_schema("Back to draft: it will not go by itself")
    @action(detail=True, methods=["post"])
    def unschedule(self, request, pk=None):
        return Response(_briefing_json(briefings.unschedule_briefing(briefing=self.get_object(), by=request.user)))

    @_action_schema("Pause sending: nothing more goes until resumed")
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return Response(_briefing_json(briefings.pause_briefing(briefing=self.get_object(), by=request.user)))

    @_action_schema("Resume a paused briefing: the rest goes, each text once")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return Response(_briefing_json(briefings.resume_briefing(briefing=self.get_object(), by=request.user)))

    @_action_schema("Cancel: nothing not yet handed to the provider is ever sent", request=CancelSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        briefing = briefings.cancel_briefing(briefing=self.get_object(), by=request.user, **data.validated_data)
        return Response(_briefing_json(briefing))

    @_action_schema(
        "Text it to your own mobile, marked [TEST]",
        response=inline_serializer(
            "TestSend", {"message": serializers.IntegerField(), "status": serializers.CharField()}
        ),
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        message = briefings.send_test_briefing(briefing=self.get_object(), to_user=request.user)
        return Response({"message": message.pk, "status": message.status})

    @extend_schema(
        summary="Live counts: queued, sending, sent, delivered, failed, unknown, skipped, replied (one query)",
        responses={200: ProgressSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        briefing = self.get_object()
        progress = selectors.briefing_progress(briefing=briefing)
        payload = {**ProgressSerializer(progress).data, "status": briefing.status}
        return Response(payload)

    @extend_schema(
        summary="Your own mobile for test briefings",
        request=MobileSerializer,
        responses={200: MobileSerializer, 400: BAD_INPUT},
    )
    @action(detail=False, methods=["put"], url_path="my-mobile")
    def my_mobile(self, request):
        data = MobileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = briefings.set_coordinator_mobile(user=request.user, mobile=data.validated_data["mobile"])
        return Response({"mobile": profile.mobile})


# Saved lists -----------------------------------------------------------------------------------------------------


class SavedListSerializer(serializers.ModelSerializer):
    delegates = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SavedList
        fields = ["id", "conference", "name", "delegates", "created_by", "created_at"]
        read_only_fields = fields


class SavedListInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    delegates = serializers.PrimaryKeyRelatedField(
        queryset=Delegate.objects.all(),
        many=True,
        required=False,
        error_messages={"does_not_exist": "No delegate with id {pk_value}."},
    )


class DelegatesSerializer(serializers.Serializer):
    delegates = serializers.PrimaryKeyRelatedField(
        queryset=Delegate.objects.all(), many=True, error_messages={"does_not_exist": "No delegate with id {pk_value}."}
    )


@extend_schema_view(
    list=extend_schema(summary="Saved lists of delegates", parameters=[CONFERENCE_PARAMETER]),
    retrieve=extend_schema(summary="One saved list", responses={200: SavedListSerializer, 404: NOT_FOUND}),
)
class SavedListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = SavedListSerializer
    pagination_class = Pagination

    def get_queryset(self):
        queryset = SavedList.objects.select_related("created_by").prefetch_related("delegates")
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(conference=_conference(self.request))
        return queryset

    def _json(self, saved_list):
        return SavedListSerializer(self.get_queryset().get(pk=saved_list.pk)).data

    @extend_schema(
        summary="Make a saved list",
        parameters=[CONFERENCE_PARAMETER],
        request=SavedListInputSerializer,
        responses={201: SavedListSerializer, 400: BAD_INPUT},
    )
    def create(self, request):
        data = SavedListInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = briefings.create_saved_list(
            conference=_conference(request), created_by=request.user, **data.validated_data
        )
        return Response(self._json(saved), status=status.HTTP_201_CREATED)

    @_action_schema("Add delegates", request=DelegatesSerializer, response=SavedListSerializer)
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        data = DelegatesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = briefings.add_to_saved_list(saved_list=self.get_object(), **data.validated_data)
        return Response(self._json(saved))

    @_action_schema("Remove delegates", request=DelegatesSerializer, response=SavedListSerializer)
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        data = DelegatesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = briefings.remove_from_saved_list(saved_list=self.get_object(), **data.validated_data)
        return Response(self._json(saved))
