"""The coordinators' API for conferences, organisations and delegates.

Every write is validated to a 400 with per-field messages: mobiles are normalised to E.164 (or refused
with the reason), duplicates are caught before the database's unique constraints would turn them into
500s, and the model's own rules (``clean``) apply exactly as in the admin and the pages.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from config.api import AuditedPagination
from delegates.filters import DelegateFilter, OrganisationFilter
from delegates.models import Conference, Delegate, Organisation, Section, nation_of_region
from messaging.phones import normalise_mobile
from messaging.services import relink_opt_outs

DUPLICATE_MOBILE = "Another delegate at this conference already has this mobile."


class Pagination(AuditedPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _model_errors(exc: DjangoValidationError) -> dict:
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    return {("non_field_errors" if k == NON_FIELD_ERRORS else k): v for k, v in exc.message_dict.items()}


class ModelRulesMixin:
    """Run the model's ``clean()`` on the would-be instance, so API, admin and pages share one set of rules."""

    def run_model_clean(self, attrs):
        instance = self.Meta.model() if self.instance is None else self.Meta.model.objects.get(pk=self.instance.pk)
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise ValidationError(_model_errors(exc)) from None
        return instance


class ConferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conference
        fields = [
            "id",
            "name",
            "slug",
            "organiser",
            "venue",
            "starts_on",
            "ends_on",
            "timezone",
            "is_current",
            "motion_title_max_words",
            "motion_text_max_words",
            "motions_deadline",
            "emergency_motions_deadline",
            "priorities_per_section",
            "composite_delegates_per_organisation",
            "clp_section_weight",
            "affiliate_section_weight",
            "delegate_first_band",
            "delegate_band",
            "delegate_cap",
            "extra_woman_min_women",
            "extra_youth_min_young",
        ]
        read_only_fields = fields


class OrganisationSerializer(ModelRulesMixin, serializers.ModelSerializer):
    section = serializers.ChoiceField(choices=Section.choices, read_only=True)
    nation = serializers.CharField(read_only=True, help_text="Follows from the region.")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "kind",
            "section",
            "name",
            "short_name",
            "gss_code",
            "region",
            "nation",
            "membership",
            "women_members",
            "young_members",
            "secretary_name",
            "secretary_email",
            "secretary_phone",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_name(self, value):
        value = " ".join(value.split())
        if not value:
            raise ValidationError("Enter the organisation's name.")
        if Organisation.objects.named(value, excluding=self.instance).exists():
            raise ValidationError("Another organisation already has this name.")
        return value

    def validate_gss_code(self, value):
        value = value.strip().upper()
        if value and Organisation.objects.with_gss_code(value, excluding=self.instance).exists():
            raise ValidationError("Another organisation already has this GSS code.")
        return value

    def validate(self, attrs):
        if "region" in attrs:
            attrs["nation"] = nation_of_region(attrs["region"])
        self.run_model_clean(attrs)
        return attrs


class DelegateSerializer(ModelRulesMixin, serializers.ModelSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.all(),
        error_messages={"does_not_exist": "No organisation with id {pk_value}.", "incorrect_type": "Give the id."},
    )
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    section = serializers.ChoiceField(choices=Section.choices, source="organisation.section", read_only=True)
    mobile = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Any common UK form (07…, +44 7…, 0044 7…); stored and returned in E.164.",
    )
    card_vote = serializers.FloatField(
        read_only=True, help_text="The organisation's membership split equally among its attending delegates."
    )
    has_sms_consent = serializers.BooleanField(
        read_only=True,
        help_text="A live consent record exists. Not enough to text: an opt-out wins. Use can_be_texted.",
    )
    delegation_over_entitlement = serializers.BooleanField(
        read_only=True,
        help_text="The delegation has more delegates than its places, so card_vote is diluted: check it.",
    )
    is_opted_out = serializers.BooleanField(
        read_only=True, help_text="The mobile texted STOP (or was opted out): no texts until it texts START."
    )
    can_be_texted = serializers.BooleanField(
        read_only=True, help_text="A mobile, live consent and not opted out: the only test for sending campaign texts."
    )

    class Meta:
        model = Delegate
        fields = [
            "id",
            "conference",
            "organisation",
            "organisation_name",
            "section",
            "first_name",
            "last_name",
            "gender",
            "seat_type",
            "is_attending",
            "mobile",
            "email",
            "notes",
            "card_vote",
            "delegation_over_entitlement",
            "has_sms_consent",
            "is_opted_out",
            "can_be_texted",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["conference", "created_at", "updated_at"]
        extra_kwargs = {
            "first_name": {"error_messages": {"blank": "Enter a first name.", "required": "Enter a first name."}},
            "last_name": {"error_messages": {"blank": "Enter a last name.", "required": "Enter a last name."}},
        }

    @property
    def conference(self) -> Conference:
        return self.instance.conference if self.instance is not None else self.context["conference"]

    def validate_first_name(self, value):
        return self._name(value, "Enter a first name.")

    def validate_last_name(self, value):
        return self._name(value, "Enter a last name.")

    def _name(self, value, message):
        value = " ".join(value.split())
        if not value:
            raise ValidationError(message)
        return value

    def validate_mobile(self, value):
        if not value.strip():
            return ""
        try:
            e164 = normalise_mobile(value)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from None
        if Delegate.objects.holding_mobile(self.conference, e164, excluding=self.instance).exists():
            raise ValidationError(DUPLICATE_MOBILE)
        return e164

    def validate(self, attrs):
        self.run_model_clean(attrs)
        return attrs

    def create(self, validated_data):
        return self._saving(super().create, {**validated_data, "conference": self.conference})

    def update(self, instance, validated_data):
        return self._saving(lambda data: super(DelegateSerializer, self).update(instance, data), validated_data)

    def _saving(self, save, data):
        # Two requests racing for the same mobile: the constraint decides, and the loser gets a 400.
        try:
            with transaction.atomic():
                delegate = save(data)
                relink_opt_outs(numbers=[delegate.mobile], via="delegates API")
                return delegate
        except IntegrityError:
            raise ValidationError({"mobile": [DUPLICATE_MOBILE]}) from None


class RefetchMixin:
    """Answer a write with the same annotated row a read returns (card vote, consent)."""

    def perform_create(self, serializer):
        serializer.save()
        serializer.instance = self.refetch(serializer.instance)

    def perform_update(self, serializer):
        serializer.save()
        serializer.instance = self.refetch(serializer.instance)

    def refetch(self, instance):
        return self.base_queryset().get(pk=instance.pk)


class WriteViewSet(
    RefetchMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read, create and edit; no delete (delegates carry history; the admin deletes)."""

    pagination_class = Pagination


@extend_schema_view(
    list=extend_schema(summary="Conferences, newest first"),
    retrieve=extend_schema(summary="One conference and its rules"),
)
class ConferenceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Conference.objects.all()
    serializer_class = ConferenceSerializer
    pagination_class = Pagination
    filter_backends = []


@extend_schema_view(
    list=extend_schema(summary="Organisations (CLPs and affiliates), filtered"),
    retrieve=extend_schema(summary="One organisation"),
    create=extend_schema(summary="Add an organisation"),
    update=extend_schema(summary="Replace an organisation's details"),
    partial_update=extend_schema(summary="Change some of an organisation's details"),
)
class OrganisationViewSet(WriteViewSet):
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "kind", "region", "membership", "created_at"]
    ordering = ["name"]

    def base_queryset(self):
        return Organisation.objects.all()

    def get_queryset(self):
        return self.base_queryset()


CONFERENCE_PARAMETER = OpenApiParameter(
    "conference",
    OpenApiTypes.INT,
    description="Conference id; defaults to the current conference. Also where a new delegate is added.",
)


@extend_schema_view(
    list=extend_schema(summary="Delegates of one conference, filtered", parameters=[CONFERENCE_PARAMETER]),
    retrieve=extend_schema(summary="One delegate"),
    create=extend_schema(summary="Add a delegate", parameters=[CONFERENCE_PARAMETER]),
    update=extend_schema(summary="Replace a delegate's details"),
    partial_update=extend_schema(summary="Change some of a delegate's details"),
)
class DelegateViewSet(WriteViewSet):
    serializer_class = DelegateSerializer
    filterset_class = DelegateFilter
    ordering_fields = ["last_name", "first_name", "organisation__name", "card_vote", "created_at"]
    ordering = ["last_name", "first_name", "pk"]

    def base_queryset(self):
        return Delegate.objects.for_list()

    def get_queryset(self):
        queryset = self.base_queryset()
        # The list is one conference's; a delegate is found by id whichever conference it is in.
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(conference=self.conference())
        return queryset

    def conference(self) -> Conference | None:
        if not hasattr(self, "_conference"):
            value = self.request.query_params.get("conference", "").strip()
            if not value:
                self._conference = Conference.current()
            elif not value.isdigit():
                raise ValidationError({"conference": ["Give the conference's id, a whole number."]})
            else:
                self._conference = Conference.objects.filter(pk=int(value)).first()
                if self._conference is None:
                    raise ValidationError({"conference": [f"No conference with id {value}."]})
        return self._conference

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "create":
            conference = self.conference()
            if conference is None:
                raise ValidationError({"conference": ["There is no conference yet: create one first."]})
            context["conference"] = conference
        return context
