"""Coordinator pages for the current conference. Thin: reads live in querysets, writes in services."""

import csv
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.forms.widgets import NullBooleanSelect
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import CreateView, DetailView, ListView, UpdateView, View

from config import audit
from config.csv_export import BOM, neutralise
from config.permissions import CoordinatorRequiredMixin
from delegates.filters import DelegateFilter, OrganisationFilter
from delegates.forms import DUPLICATE_MOBILE, DelegateForm, OrganisationForm
from delegates.models import Conference, Delegate, Organisation
from delegates.services import record_sms_consent, withdraw_sms_consent
from messaging.services import relink_opt_outs

PAGE_SIZE = 50
EXPORT_COLUMNS = [
    "first_name",
    "last_name",
    "organisation",
    "gender",
    "seat_type",
    "is_attending",
    "mobile",
    "email",
    "card_vote",
    "sms_consent",
]


class FriendlyPaginationMixin:
    """A page number past the end (an old link after filtering) shows the last page, not a 404."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class CurrentConferenceMixin:
    @cached_property
    def conference(self):
        return Conference.current()

    def get_context_data(self, **kwargs):
        return super().get_context_data(conference=self.conference, **kwargs)


# Labels for people (the shared filters leave some to django-filter, which can only guess).
FILTER_LABELS = {
    "q": "Search",
    "section": "Section",
    "kind": "Kind",
    "region": "Region",
    "organisation": "Organisation",
    "seat_type": "Seat",
    "gender": "Gender",
    "is_attending": "Attending",
    "can_be_texted": "Can be texted",
    "has_sms_consent": "Can be texted",
}


def _tidy_filter_form(form):
    """Plain words in the filter form: "Any" instead of Django's dashes and "Unknown"."""
    for name, field in form.fields.items():
        field.label = FILTER_LABELS.get(name, field.label)
        if isinstance(field.widget, NullBooleanSelect):
            field.widget.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            field.empty_label = "Any"
            field.choices = [(value, label) for value, label in field.choices if value != ""]
    return form


def _active_filters(filterset, names):
    """Chips for the filters in use, each with a link that drops just that filter (and the page)."""
    params = filterset.data
    filterset.form.is_valid()  # a nonsense value in one filter must not hide the chips of the others
    data = getattr(filterset.form, "cleaned_data", {})
    chips = []
    for name in names:
        value = data.get(name)
        if value in (None, ""):
            continue
        field = filterset.form.fields[name]
        if hasattr(value, "pk"):
            shown = str(value)
        elif value is True or value is False:
            shown = "Yes" if value else "No"
        elif getattr(field, "choices", None):
            shown = dict(field.choices).get(params.get(name), value)
        else:
            shown = value
        rest = {key: kept for key, kept in params.items() if key != name}
        chips.append({"label": field.label or name, "value": shown, "remove": "?" + _query_without_page(rest)})
    return chips


def _query_without_page(params) -> str:
    """The filters in use, for pagination and export links: no page, no empty values."""
    return urlencode([(key, value) for key, value in params.items() if key != "page" and value != ""])


class OrganisationListView(CoordinatorRequiredMixin, CurrentConferenceMixin, FriendlyPaginationMixin, ListView):
    template_name = "delegates/organisation_list.html"
    paginate_by = PAGE_SIZE
    context_object_name = "organisations"

    def get_queryset(self):
        queryset = Organisation.objects.all()
        if self.conference:
            # Counting delegates groups the query, and Django then drops Meta.ordering: restate it.
            queryset = queryset.with_delegate_places(self.conference).order_by("name", "pk")
        self.filterset = OrganisationFilter(self.request.GET, queryset=queryset)
        _tidy_filter_form(self.filterset.form)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for organisation in context["organisations"]:
            organisation.entitlement = self.conference.delegate_entitlement(organisation) if self.conference else None
        context.update(
            filterset=self.filterset,
            chips=_active_filters(self.filterset, ["q", "section", "kind", "region", "over_entitlement"]),
            query=_query_without_page(self.request.GET),
        )
        return context


class OrganisationDetailView(CoordinatorRequiredMixin, CurrentConferenceMixin, DetailView):
    model = Organisation
    template_name = "delegates/organisation_detail.html"
    context_object_name = "organisation"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation, conference = self.object, self.conference
        if conference:
            delegates = list(Delegate.objects.for_conference(conference).filter(organisation=organisation).for_list())
            extra_woman, extra_youth = conference.extra_places(organisation)
            places = conference.delegate_places(organisation)
            context.update(
                delegates=delegates,
                entitlement=conference.delegate_entitlement(organisation),
                places=places,
                extra_woman=extra_woman,
                extra_youth=extra_youth,
                attending=sum(1 for d in delegates if d.is_attending),
                # Same rule as OrganisationQuerySet.with_delegate_places, for the one row on this page.
                over_entitlement=organisation.kind == Organisation.Kind.CLP and len(delegates) > places,
                over_by=len(delegates) - places,
            )
        return context


class OrganisationCreateView(CoordinatorRequiredMixin, CurrentConferenceMixin, CreateView):
    model = Organisation
    form_class = OrganisationForm
    template_name = "delegates/organisation_form.html"

    def form_valid(self, form):
        messages.success(self.request, "Organisation added.")
        return super().form_valid(form)


class OrganisationUpdateView(CoordinatorRequiredMixin, CurrentConferenceMixin, UpdateView):
    model = Organisation
    form_class = OrganisationForm
    template_name = "delegates/organisation_form.html"

    def form_valid(self, form):
        messages.success(self.request, "Changes saved.")
        return super().form_valid(form)


class DelegateFilterMixin(CurrentConferenceMixin):
    """The list and its CSV export answer the same question: one filterset over the same queryset."""

    def get_filterset(self):
        queryset = Delegate.objects.for_conference(self.conference).for_list()
        return DelegateFilter(self.request.GET, queryset=queryset)


class DelegateListView(CoordinatorRequiredMixin, DelegateFilterMixin, FriendlyPaginationMixin, ListView):
    template_name = "delegates/delegate_list.html"
    paginate_by = PAGE_SIZE
    context_object_name = "delegates"
    filter_names = [
        "q",
        "section",
        "kind",
        "region",
        "organisation",
        "seat_type",
        "gender",
        "is_attending",
        "can_be_texted",
        "has_sms_consent",
    ]

    def get_queryset(self):
        if self.conference is None:
            self.filterset = None
            return Delegate.objects.none()
        self.filterset = self.get_filterset()
        _tidy_filter_form(self.filterset.form)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.filterset is not None:
            chips = _active_filters(self.filterset, self.filter_names)
            context.update(
                filterset=self.filterset,
                chips=chips,
                more_filters_active=any(chip for chip in chips if chip["label"] != "Search"),
            )
        context["query"] = _query_without_page(self.request.GET)
        return context


class Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


class DelegateExportView(CoordinatorRequiredMixin, DelegateFilterMixin, View):
    """The filtered delegate list as CSV, streamed so a whole conference never sits in memory."""

    def get(self, request):
        if self.conference is None:
            return redirect("delegate-list")
        filterset = self.get_filterset()
        # Audited before streaming: a download cut short still happened. Filter names only, never their values.
        audit.record_access(
            action=audit.EXPORT,
            what="delegates CSV export",
            count=filterset.qs.count(),
            actor=request.user,
            detail={"conference": self.conference.pk, "filters": sorted(k for k, v in request.GET.items() if v)},
        )
        delegates = filterset.qs.iterator(chunk_size=500)
        writer = csv.writer(Echo())

        def rows():
            # A byte-order mark tells Excel the file is UTF-8, so "Siân" stays "Siân"; our importer skips it.
            # Every cell neutralised against formulas (a +447… mobile too); the import strips it again.
            yield BOM + writer.writerow(EXPORT_COLUMNS)
            for d in delegates:
                yield writer.writerow(
                    [
                        neutralise(cell)
                        for cell in (
                            d.first_name,
                            d.last_name,
                            d.organisation.name,
                            d.gender,
                            d.seat_type,
                            "yes" if d.is_attending else "no",
                            d.mobile,
                            d.email,
                            f"{d.card_vote:.2f}".rstrip("0").rstrip("."),
                            # The one definition of "can be texted": an opted-out delegate never reads "yes".
                            "opted out" if d.is_opted_out else ("yes" if d.can_be_texted else "no"),
                        )
                    ]
                )

        # The file name says which conference and when, never who is in it.
        filename = f"delegates-{self.conference.slug}-{timezone.localdate():%Y-%m-%d}.csv"
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


class DelegateDetailView(CoordinatorRequiredMixin, CurrentConferenceMixin, DetailView):
    template_name = "delegates/delegate_detail.html"
    context_object_name = "delegate"

    def get_queryset(self):
        return Delegate.objects.for_list()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consents = list(self.object.sms_consents.select_related("recorded_by").order_by("-given_at"))
        context.update(
            consents=consents,
            current_consent=next((c for c in consents if c.withdrawn_at is None), None),
        )
        return context


class DelegateFormMixin(CurrentConferenceMixin):
    model = Delegate
    form_class = DelegateForm
    template_name = "delegates/delegate_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "conference": self.get_form_conference()}

    def form_valid(self, form):
        try:
            with transaction.atomic():
                self.object = form.save()
                # In the same transaction: the mobile and its opt-out (if its owner was erased) commit together.
                relink_opt_outs(numbers=[self.object.mobile], via="delegate form")
                self.apply_consent(form)
        except IntegrityError:
            # Two coordinators saved the same mobile at once: the constraint caught what clean() could not.
            form.add_error("mobile", DUPLICATE_MOBILE % {"name": "someone saved it a moment ago"})
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return redirect(self.object)

    def apply_consent(self, form):
        action = form.cleaned_data.get("consent_action")
        if action == DelegateForm.RECORD:
            record_sms_consent(
                delegate=self.object,
                method=form.cleaned_data["consent_method"],
                wording=form.cleaned_data["consent_wording"].strip(),
                recorded_by=self.request.user,
                given_at=form.cleaned_data.get("consent_given_at"),
            )
        elif action == DelegateForm.WITHDRAW:
            withdraw_sms_consent(delegate=self.object, reason=form.cleaned_data["withdrawal_reason"].strip())


class RequireConferenceMixin(CurrentConferenceMixin):
    """Runs after the permission check (later in the MRO), so outsiders still get their 403."""

    def dispatch(self, request, *args, **kwargs):
        if self.conference is None:
            messages.error(request, "Create a conference in the admin before adding delegates.")
            return redirect("dashboard")
        return super().dispatch(request, *args, **kwargs)


class DelegateCreateView(CoordinatorRequiredMixin, RequireConferenceMixin, DelegateFormMixin, CreateView):
    success_message = "Delegate added."

    def get_form_conference(self):
        return self.conference

    def get_initial(self):
        initial = super().get_initial()
        organisation = self.request.GET.get("organisation", "")
        if organisation.isdigit():
            initial["organisation"] = organisation
        return initial


class DelegateUpdateView(CoordinatorRequiredMixin, DelegateFormMixin, UpdateView):
    success_message = "Changes saved."

    def get_object(self, queryset=None):
        return get_object_or_404(Delegate.objects.select_related("conference", "organisation"), pk=self.kwargs["pk"])

    def get_form_conference(self):
        return self.object.conference
