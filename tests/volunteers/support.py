"""Factories and helpers for the volunteers tests. Times are in London: the demo conference is in Liverpool."""

import datetime as dt
import zoneinfo

import factory

from tests.factories import ConferenceFactory
from volunteers.models import Location, Role, Shift, Volunteer, VolunteerConsent

LONDON = zoneinfo.ZoneInfo("Europe/London")
# The test conference runs 26–29 September 2027; "now" in most tests is the Saturday before, at noon.
NOW = dt.datetime(2027, 9, 25, 12, 0, tzinfo=LONDON)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, 9, day, hour, minute, tzinfo=LONDON)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("conference", "name")

    conference = factory.SubFactory(ConferenceFactory)
    name = factory.Sequence(lambda n: f"ACC entrance {n}")


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    conference = factory.SubFactory(ConferenceFactory)
    role = Role.LEAFLETING
    location = factory.SubFactory(LocationFactory, conference=factory.SelfAttribute("..conference"))
    starts_at = factory.LazyFunction(lambda: at(27, 9))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + dt.timedelta(hours=2))
    capacity = 5
    minimum = factory.LazyAttribute(lambda s: min(2, s.capacity))


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer
        skip_postgeneration_save = True

    name = factory.Faker("name")
    mobile = factory.Sequence(lambda n: f"+447700900{n % 1000:03d}")
    consent_given_at = factory.LazyFunction(lambda: NOW)
    consent_wording = "I agree to texts about my shifts."
    consent_source = "test"

    @factory.post_generation
    def consent(self, create, extracted, **kwargs):
        """The evidence row register_volunteer writes (VolunteerConsent): what the consent checks read."""
        if create and self.consent_given_at:
            VolunteerConsent.objects.create(
                volunteer=self, given_at=self.consent_given_at, wording=self.consent_wording, source=self.consent_source
            )
