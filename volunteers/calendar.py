"""A volunteer's shifts as an iCalendar feed (RFC 5545), made with the icalendar library."""

from django.utils import timezone
from icalendar import Calendar, Event

from volunteers.models import Signup

IN_CALENDAR = (Signup.Status.CONFIRMED, Signup.Status.ATTENDED, Signup.Status.OFFERED)


def volunteer_calendar(volunteer, signups) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Cardvote//Volunteer shifts//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "My campaign shifts")
    now = timezone.now()
    for signup in signups:
        if signup.status == Signup.Status.WAITLISTED:
            continue  # not theirs yet; an offer (which holds the place) shows
        shift = signup.shift
        event = Event()
        # Stable per sign-up, so a calendar app updates the event when the shift moves or is cancelled.
        event.add("uid", f"signup-{signup.pk}@cardvote")
        event.add("dtstamp", now)
        event.add("dtstart", shift.local_start())
        event.add("dtend", shift.local_end())
        event.add("summary", f"{shift.get_role_display()}: {shift.location.name}")
        event.add("location", shift.location.name)
        if shift.notes:
            event.add("description", shift.notes)
        cancelled = shift.cancelled or signup.status not in IN_CALENDAR
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
