"""The volunteers API. Shifts: anyone may read places left (no names); coordinators write. Volunteers and sign-ups:
coordinators only. Every write goes through volunteers.services, so the API obeys the same capacity, clash and
history rules as the pages; a domain ValidationError becomes a 400 with per-field messages (config.api)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.permissions import IsCoordinator, is_coordinator
from delegates.models import Conference
from volunteers import services
from volunteers.models import Location, Role, Shift, Signup, SignupChange, Volunteer


class ShiftFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(method="filter_day", label="Day (conference's time zone), YYYY-MM-DD")
    has_places = django_filters.BooleanFilter(method="filter_has_places", label="Only shifts with places left")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Shift
        fields = ["conference", "role", "location", "cancelled"]

    def filter_day(self, queryset, name, value):
        from volunteers.selectors import day_bounds

        conference = Conference.current()
        if conference is None:
            return queryset.none()
        start, end = day_bounds(conference, value)
        return queryset.filter(starts_at__gte=start, starts_at__lt=end)

    def filter_has_places(self, queryset, name, value):
        from django.db.models import F

        if value is None:
            return queryset
        return queryset.filter(taken__lt=F("capacity")) if value else queryset.filter(taken__gte=F("capacity"))


class ShiftSerializer(serializers.ModelSerializer):
    location_name = serializers.CharField(source="location.name", read_only=True)
    places_left = serializers.SerializerMethodField()
    waitlist = serializers.IntegerField(source="waiting", read_only=True)
    taken = serializers.IntegerField(read_only=True)

    class Meta:
        model = Shift
        fields = [
            "id",
            "conference",
            "role",
            "location",
            "location_name",
            "starts_at",
            "ends_at",
            "capacity",
            "minimum",
            "taken",
            "places_left",
            "waitlist",
            "notes",
            "cancelled",
            "lead",
        ]
        read_only_fields = ["cancelled", "conference"]

    def get_places_left(self, shift) -> int:
        return max(shift.capacity - getattr(shift, "taken", 0), 0)

    def validate_location(self, location):
        conference = Conference.current()
        if conference is not None and location.conference_id != conference.pk:
            raise serializers.ValidationError("That location belongs to another conference.")
        return location

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not (request and is_coordinator(request.user)):
            data.pop("lead", None)  # a volunteer's identity is for coordinators only
        return data


class ReadPublicWriteCoordinator(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or is_coordinator(request.user)


@extend_schema(tags=["volunteers"])
class ShiftViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Shifts with places left. Anyone may read; coordinators create, change (moving texts volunteers), cancel."""

    serializer_class = ShiftSerializer
    permission_classes = [ReadPublicWriteCoordinator]
    filterset_class = ShiftFilter
    ordering_fields = ["starts_at", "role"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = Shift.objects.select_related("location").with_counts().order_by("starts_at", "pk")
        if not is_coordinator(self.request.user):
            queryset = queryset.filter(cancelled=False)
        return queryset

    def perform_create(self, serializer):
        conference = Conference.current()
        serializer.instance = services.create_shift(conference=conference, **serializer.validated_data)

    def perform_update(self, serializer):
        fields = {k: v for k, v in serializer.validated_data.items() if k in services.SHIFT_EDITABLE}
        serializer.instance = services.update_shift(shift=serializer.instance, by=self.request.user, **fields)

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response.data = ShiftSerializer(self.get_queryset().get(pk=kwargs["pk"]), context={"request": request}).data
        return response

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        shift = self.get_queryset().get(pk=response.data["id"])
        response.data = ShiftSerializer(shift, context={"request": request}).data
        return response

    @extend_schema(request=None, responses=ShiftSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsCoordinator])
    def cancel(self, request, pk=None, **kwargs):
        """Cancel the shift: its sign-ups are cancelled and its volunteers texted."""
        services.cancel_shift(shift=self.get_object(), by=request.user)
        return Response(ShiftSerializer(self.get_queryset().get(pk=pk), context={"request": request}).data)


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "conference", "name", "directions"]


@extend_schema(tags=["volunteers"])
class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Location.objects.order_by("name")
    serializer_class = LocationSerializer
    permission_classes = [ReadPublicWriteCoordinator]
    filterset_fields = ["conference"]


class VolunteerSerializer(serializers.ModelSerializer):
    consent_wording = serializers.CharField(
        write_only=True, help_text="Exactly what the volunteer agreed to; required to register them."
    )

    class Meta:
        model = Volunteer
        fields = [
            "id",
            "name",
            "mobile",
            "email",
            "consent_given_at",
            "consent_source",
            "consent_wording",
            "created_at",
        ]
        read_only_fields = ["consent_given_at", "consent_source", "created_at"]
        extra_kwargs = {"mobile": {"validators": []}}  # an existing number is found, not refused


class VolunteerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    shift = django_filters.NumberFilter(field_name="signups__shift", distinct=True)

    class Meta:
        model = Volunteer
        fields = ["name", "shift"]


@extend_schema(tags=["volunteers"])
class VolunteerViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Volunteers (coordinators only). Registering an existing mobile returns that volunteer, consent renewed."""

    queryset = Volunteer.objects.order_by("name", "pk")
    serializer_class = VolunteerSerializer
    filterset_class = VolunteerFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.register_volunteer(
            name=data["name"],
            mobile=data["mobile"],
            email=data.get("email", ""),
            consent_wording=data["consent_wording"],
            consent_source=f"API, coordinator {self.request.user.pk}",
            recorded_by=self.request.user,
        )


class SignupChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SignupChange
        fields = ["at", "from_status", "to_status", "reason", "source"]


class SignupSerializer(serializers.ModelSerializer):
    waitlist = serializers.BooleanField(
        write_only=True, default=False, help_text="Join the waitlist if the shift is full (else refused)."
    )

    class Meta:
        model = Signup
        fields = ["id", "shift", "volunteer", "status", "queued_at", "offer_expires_at", "reconfirmed_at", "waitlist"]
        read_only_fields = ["status", "queued_at", "offer_expires_at", "reconfirmed_at"]
        validators = []  # the service says "already signed up" in words


class SignupFilter(django_filters.FilterSet):
    class Meta:
        model = Signup
        fields = ["shift", "volunteer", "status", "shift__conference"]


@extend_schema(tags=["volunteers"])
class SignupViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Sign-ups (coordinators only). Creating one applies the capacity and clash rules and texts the volunteer."""

    queryset = Signup.objects.select_related("shift", "volunteer").order_by("shift__starts_at", "queued_at", "pk")
    serializer_class = SignupSerializer
    filterset_class = SignupFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.sign_up(
            shift=data["shift"],
            volunteer=data["volunteer"],
            source=SignupChange.Source.API,
            by=self.request.user,
            waitlist=data.get("waitlist", False),
        ).signup

    def _act(self, request, fn, **kwargs):
        signup = fn(signup=self.get_object(), **kwargs)
        return Response(SignupSerializer(signup).data)

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None, **kwargs):
        """Cancel; a place it held is offered to the next on the waitlist."""
        return self._act(
            request,
            services.cancel_signup,
            source=SignupChange.Source.API,
            by=request.user,
            reason="cancelled through the API",
            enforce_cutoff=False,
        )

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"])
    def attended(self, request, pk=None, **kwargs):
        return self._act(request, services.record_attendance, attended=True, by=request.user)

    @extend_schema(request=None, responses=SignupSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None, **kwargs):
        return self._act(request, services.record_attendance, attended=False, by=request.user)

    @extend_schema(responses=SignupChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None, **kwargs):
        return Response(SignupChangeSerializer(self.get_object().changes.all(), many=True).data)
