import datetime as dt

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from delegates.models import Conference, Delegate, Organisation, Region, SmsConsent


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class CoordinatorFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def coordinators_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name=settings.COORDINATORS_GROUP)[0])


class ConferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conference
        django_get_or_create = ("slug",)

    name = "Labour Party Conference 2027"
    slug = "lab27"
    venue = "ACC Liverpool"
    starts_on = dt.date(2027, 9, 26)
    ends_on = dt.date(2027, 9, 29)
    is_current = True


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.CLP
    name = factory.Sequence(lambda n: f"Constituency {n}")
    region = Region.NORTH_WEST
    nation = "England"
    membership = 600


class UnionFactory(OrganisationFactory):
    kind = Organisation.Kind.TRADE_UNION
    name = factory.Sequence(lambda n: f"Union {n}")
    region = ""
    nation = ""
    membership = 100_000


class DelegateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegate

    conference = factory.SubFactory(ConferenceFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    gender = Delegate.Gender.WOMAN
    # Ofcom's drama range: never a real person's number.
    mobile = factory.Sequence(lambda n: f"+447700900{n % 1000:03d}")


class SmsConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmsConsent

    delegate = factory.SubFactory(DelegateFactory)
    method = SmsConsent.Method.WEB_FORM
    wording = "I agree to receive texts about conference votes. Reply STOP to stop."
