"""Coordinator pages: the inbox of replies and the history of one number.

A phone number is personal data: it never appears in a URL (pages are reached through a message's id,
or a POSTed lookup form) and lists show it masked until a coordinator opens the number's history.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.generic import ListView, View

from config.permissions import CoordinatorRequiredMixin
from messaging import services
from messaging.models import InboundMessage, OptOut, OptOutEvent, OutboundMessage
from messaging.phones import normalise_mobile
from messaging.registry import resolve_contacts

PAGE_SIZE = 50
HISTORY_ROWS = 100
# "in" and "out" name which table the id in a history URL belongs to.
_KINDS = {"in": (InboundMessage, "from_number"), "out": (OutboundMessage, "to")}


class NumberLookupForm(forms.Form):
    number = forms.CharField(label="Mobile number", max_length=40)

    def clean_number(self):
        return normalise_mobile(self.cleaned_data["number"])


class InboxView(CoordinatorRequiredMixin, ListView):
    """Replies, newest first; unhandled ones only unless ?show=all."""

    template_name = "messaging/inbox.html"
    context_object_name = "replies"
    paginate_by = PAGE_SIZE

    def show_all(self) -> bool:
        return self.request.GET.get("show") == "all"

    def get_queryset(self):
        replies = InboundMessage.objects.select_related("in_reply_to", "handled_by")
        if self.show_all():
            return replies.order_by("-received_at", "-id")
        # Waiting replies that look like an opt-out request come first: the law says honour them at once.
        return replies.filter(handled=False).order_by("-looks_like_opt_out", "-received_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(
            show_all=self.show_all(),
            query="show=all" if self.show_all() else "",
            # One query for both counts: waiting replies, and those among them that look like opt-out requests.
            **InboundMessage.objects.filter(handled=False).aggregate(
                unhandled_count=Count("pk"), opt_out_requests=Count("pk", filter=Q(looks_like_opt_out=True))
            ),
            lookup_form=NumberLookupForm(),
            **kwargs,
        )
        # Who sent each reply, as the domain apps know them: one query per app for the whole page.
        numbers = {reply.from_number for reply in context["replies"]}
        contacts = resolve_contacts(numbers)
        # One query for the page: which senders have already opted out (so no opt-out button for them).
        opted_out = set(OptOut.objects.filter(number__in=numbers, opted_out=True).values_list("number", flat=True))
        for reply in context["replies"]:
            reply.contact = contacts.get(reply.from_number)
            reply.sender_opted_out = reply.from_number in opted_out
        return context


class MarkHandledView(CoordinatorRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        reply = get_object_or_404(InboundMessage, pk=pk)
        if reply.handled:  # e.g. a second coordinator got there first: keep their name and time
            messages.info(request, "That reply was already handled.")
        else:
            services.mark_inbound_handled(reply, by=request.user)
            messages.success(request, f"Reply from {reply.masked_from} marked as handled.")
        return redirect(_back_to_inbox(request))


class ReplyOptOutView(CoordinatorRequiredMixin, View):
    """One tap on a reply that asked to stop in plain words: opt the number out and mark the reply handled."""

    http_method_names = ["post"]

    def post(self, request, pk):
        reply = get_object_or_404(InboundMessage, pk=pk)
        try:
            changed = services.opt_out_from_reply(reply, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if changed:
                messages.success(request, f"{reply.masked_from} opted out: no more texts until it texts START.")
            else:
                messages.info(request, f"{reply.masked_from} had already opted out; the reply is marked handled.")
        return redirect(_back_to_inbox(request))


def _back_to_inbox(request) -> str:
    url = reverse("inbox:list")
    return f"{url}?show=all" if request.POST.get("show") == "all" else url


def _number_for(kind: str, pk: int) -> str:
    if kind not in _KINDS:
        raise Http404
    model, field = _KINDS[kind]
    return getattr(get_object_or_404(model.objects.only(field), pk=pk), field)


def _history_context(number: str) -> dict:
    """Everything about one number; a fixed number of queries however long its history."""
    outbound = OutboundMessage.objects.filter(to=number).order_by("-created_at", "-id")
    return {
        "number": number,
        "outbound": list(outbound[:HISTORY_ROWS]),
        "outbound_count": outbound.count(),
        "inbound": list(
            InboundMessage.objects.filter(from_number=number)
            .select_related("in_reply_to", "handled_by")
            .order_by("-received_at", "-id")[:HISTORY_ROWS]
        ),
        "opt_out_events": list(OptOutEvent.objects.filter(number=number).order_by("-at", "-id")[:HISTORY_ROWS]),
        "opt_out": OptOut.objects.filter(number=number).first(),
        "contact": resolve_contacts({number}).get(number),
        "history_rows": HISTORY_ROWS,
    }


class NumberHistoryView(CoordinatorRequiredMixin, View):
    """Reached from a reply (kind "in") or a sent text (kind "out"), so the URL carries only an id."""

    http_method_names = ["get"]

    def get(self, request, kind, pk):
        context = _history_context(_number_for(kind, pk))
        return render(request, "messaging/number_history.html", {**context, "kind": kind, "pk": pk})


class NumberLookupView(CoordinatorRequiredMixin, View):
    """A typed number, POSTed so it stays out of URLs, logs and browser history."""

    http_method_names = ["get", "post"]

    def get(self, request):
        return redirect("inbox:list")

    def post(self, request):
        form = NumberLookupForm(request.POST)
        if not form.is_valid():
            return render(request, "messaging/number_lookup.html", {"lookup_form": form}, status=400)
        number = form.cleaned_data["number"]
        # Land on the id-based page when there is one, so a reload or a shared link still works.
        latest_out = OutboundMessage.objects.filter(to=number).order_by("-created_at", "-id").first()
        if latest_out:
            return redirect("inbox:number-history", kind="out", pk=latest_out.pk)
        latest_in = InboundMessage.objects.filter(from_number=number).order_by("-received_at", "-id").first()
        if latest_in:
            return redirect("inbox:number-history", kind="in", pk=latest_in.pk)
        return render(request, "messaging/number_history.html", {**_history_context(number), "kind": None})


class NumberOptOutView(CoordinatorRequiredMixin, View):
    """A coordinator records an opt-out the person asked for another way (a call, an email, in person).

    Opting back in is left to the person (texting START): a coordinator cannot undo a STOP.
    """

    http_method_names = ["post"]

    def post(self, request, kind, pk):
        number = _number_for(kind, pk)
        if services.is_opted_out(number):
            messages.info(request, "This number had already opted out.")
        else:
            try:
                services.opt_out(number, source=OptOutEvent.Source.COORDINATOR)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Opted out: no more texts will go to this number until it texts START.")
        return redirect("inbox:number-history", kind=kind, pk=pk)
