"""The words of every text to a volunteer, in one place.

Replies are Y and X, never "cancel": messaging reads CANCEL, END, QUIT, STOP… as opting out of all texts.
"""

from django.conf import settings

from volunteers import links


def _sender() -> str:
    return settings.SMS_SENDER_NAME


def confirmed(shift, volunteer) -> str:
    return (
        f"{_sender()}: you're down for {shift.short_label()}. Thank you! "
        f"Your shifts, calendar and cancelling: {links.my_shifts_url(volunteer.pk)}"
    )


def waitlisted(shift, signup) -> str:
    return (
        f"{_sender()}: {shift.short_label()} is full, so you're on the waitlist. We'll text you if a place frees up. "
        f"Your shifts: {links.my_shifts_url(signup.volunteer_id)}"
    )


def offer(shift) -> str:
    return (
        f"{_sender()}: a place is free on {shift.short_label()}. "
        f"Reply Y within {settings.VOLUNTEER_OFFER_MINUTES} minutes to take it, or X to pass."
    )


def reminder(shift) -> str:
    return f"{_sender()}: reminder, {shift.short_label()}. Reply Y to confirm you're coming, or X if you can't make it."


def shift_moved(shift, volunteer) -> str:
    return (
        f"{_sender()}: your shift has changed. It is now {shift.short_label()}. "
        f"Can't make it? See {links.my_shifts_url(volunteer.pk)}"
    )


def shift_cancelled(shift, volunteer) -> str:
    return f"{_sender()}: sorry, {shift.short_label()} is cancelled. Other shifts: {links.absolute('/shifts/')}"


def cover(shift, volunteer) -> str:
    return (
        f"Can you help now? {shift.short_label()} needs people. "
        f"Take the place with one tap: {links.cover_url(volunteer.pk, shift.pk)}"
    )


def reply_refused(shift, reason: str) -> str:
    return f"{_sender()}: {shift.short_label()}: {reason}"
