"""The API for proposed stances: delegates' replies to briefings read as a stance, accepted or rejected.

Thin: reads through `lobbying.selectors`, decisions through `lobbying.replies`; a proposal already decided (by
someone else, a moment ago) is a 400 naming who decided it, and a bad filter is a 400 with per-field messages.
"""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from delegates.api import Pagination
from lobbying import replies, selectors
from lobbying.api import CONFERENCE_PARAMETER, _conference
from lobbying.models import Level, ProposedStance


class ProposedStanceSerializer(serializers.ModelSerializer):
    delegate_name = serializers.CharField(source="delegate.full_name", read_only=True)
    organisation = serializers.CharField(source="delegate.organisation.name", read_only=True)
    motion_title = serializers.CharField(source="motion.__str__", read_only=True)
    reply = serializers.CharField(source="inbound.body", read_only=True)
    received_at = serializers.DateTimeField(source="inbound.received_at", read_only=True)
    current_level = serializers.ChoiceField(
        choices=Level.choices, read_only=True, allow_null=True, help_text="The stance now; null for unknown."
    )
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProposedStance
        fields = [
            "id",
            "delegate",
            "delegate_name",
            "organisation",
            "motion",
            "motion_title",
            "briefing",
            "reply",
            "received_at",
            "current_level",
            "level",
            "status",
            "decided_by",
            "decided_at",
            "stance_change",
            "created_at",
        ]
        read_only_fields = fields


class ProposedStanceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ProposedStance.Status.choices, empty_label=None, help_text="Default: pending (waiting for a decision)."
    )

    class Meta:
        model = ProposedStance
        fields = ["motion", "delegate", "status", "level"]


ERRORS = OpenApiResponse(
    inline_serializer("ProposalErrors", {"status": serializers.ListField(child=serializers.CharField())}),
    description="Already accepted or rejected (the message says by whom and when).",
)


@extend_schema_view(
    list=extend_schema(
        summary="Replies to briefings read as a stance (pending by default), newest first",
        parameters=[CONFERENCE_PARAMETER],
    ),
    retrieve=extend_schema(summary="One proposed stance"),
)
class ProposedStanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProposedStanceSerializer
    filterset_class = ProposedStanceFilter
    pagination_class = Pagination
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        queryset = ProposedStance.objects.all()
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):  # the schema has no request
            conference = _conference(self.request)
            if self.request.query_params.get("status"):
                queryset = queryset.filter(motion__conference=conference)
            else:
                queryset = queryset.waiting(conference=conference)
        return selectors.proposals_with_current_stance(queryset)

    def _decide(self, service):
        proposal = service(proposal=self.get_object(), by=self.request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)

    @extend_schema(
        summary="Accept: record the stance (source: the delegate's own text, at the time of the reply)",
        request=None,
        responses={200: ProposedStanceSerializer, 400: ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(replies.accept_proposed_stance)

    @extend_schema(
        summary="Reject: record nothing", request=None, responses={200: ProposedStanceSerializer, 400: ERRORS}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(replies.reject_proposed_stance)
