"""Filters shared by the coordinator pages and the API, so both answer the same question the same way."""

import django_filters
from django import forms

from delegates.models import Conference, Delegate, Organisation, Region, Section


class OrganisationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search")
    section = django_filters.ChoiceFilter(choices=Section.choices, method="filter_section", label="Section")
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    over_entitlement = django_filters.BooleanFilter(method="filter_over_entitlement", label="Over entitlement")

    class Meta:
        model = Organisation
        fields = ["q", "section", "kind", "region", "over_entitlement"]

    def filter_over_entitlement(self, queryset, name, value):
        # The list page annotates for its conference; the API's plain queryset gets the current one.
        if "over_entitlement" not in queryset.query.annotations:
            conference = Conference.current()
            if conference is None:
                return queryset.none() if value else queryset
            queryset = queryset.with_delegate_places(conference)
        return queryset.filter(over_entitlement=value)

    def filter_text(self, queryset, name, value):
        return queryset.search(value)

    def filter_section(self, queryset, name, value):
        return queryset.in_section(value)


class DelegateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search")
    section = django_filters.ChoiceFilter(choices=Section.choices, method="filter_section", label="Section")
    kind = django_filters.ChoiceFilter(
        field_name="organisation__kind", choices=Organisation.Kind.choices, label="Organisation kind"
    )
    region = django_filters.ChoiceFilter(field_name="organisation__region", choices=Region.choices)
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.all(), widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    seat_type = django_filters.ChoiceFilter(choices=Delegate.SeatType.choices)
    gender = django_filters.ChoiceFilter(choices=Delegate.Gender.choices)
    is_attending = django_filters.BooleanFilter(label="Attending")
    can_be_texted = django_filters.BooleanFilter(method="filter_can_be_texted", label="Can be texted")
    # Older links and API clients say has_sms_consent: it answers the same question, never "consent but opted out".
    has_sms_consent = django_filters.BooleanFilter(method="filter_can_be_texted", label="Can be texted")

    class Meta:
        model = Delegate
        fields = ["q", "section", "kind", "region", "organisation", "seat_type", "gender", "is_attending"]

    def filter_text(self, queryset, name, value):
        return queryset.search(value)

    def filter_section(self, queryset, name, value):
        return queryset.in_section(value)

    def filter_can_be_texted(self, queryset, name, value):
        # Needs the can_be_texted annotation (DelegateQuerySet.with_can_be_texted / for_list).
        return queryset.filter(can_be_texted=value)
