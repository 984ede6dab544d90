import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from delegates.models import Conference, Delegate, Organisation, Section
from delegates.services import record_sms_consent, withdraw_sms_consent
from tests.factories import ConferenceFactory, CoordinatorFactory, DelegateFactory, OrganisationFactory, UnionFactory

pytestmark = pytest.mark.django_db


def test_a_clps_card_vote_is_split_equally_among_the_delegates_who_attend(conference):
    clp = OrganisationFactory(membership=900)
    attending = DelegateFactory.create_batch(3, conference=conference, organisation=clp)
    absent = DelegateFactory(conference=conference, organisation=clp, is_attending=False)

    votes = dict(Delegate.objects.with_card_vote().values_list("pk", "card_vote"))

    assert [votes[d.pk] for d in attending] == [300.0, 300.0, 300.0]
    assert votes[absent.pk] == 0.0


def test_card_vote_counts_only_delegates_at_the_same_conference(conference):
    other = ConferenceFactory(slug="lab26", name="Labour 2026", is_current=False)
    clp = OrganisationFactory(membership=1000)
    ours = DelegateFactory(conference=conference, organisation=clp)
    DelegateFactory(conference=other, organisation=clp)

    assert Delegate.objects.with_card_vote().get(pk=ours.pk).card_vote == 1000.0


def test_sections_put_clps_in_one_and_every_affiliate_in_the_other(conference):
    clp_delegate = DelegateFactory(conference=conference, organisation=OrganisationFactory())
    union_delegate = DelegateFactory(conference=conference, organisation=UnionFactory())

    assert list(Delegate.objects.in_section(Section.CLP)) == [clp_delegate]
    assert list(Delegate.objects.in_section(Section.AFFILIATES)) == [union_delegate]
    assert union_delegate.organisation.section == Section.AFFILIATES


def test_conference_entitlement_uses_its_own_rules(conference):
    big = OrganisationFactory(membership=1800, women_members=700, young_members=29)
    assert conference.delegate_entitlement(big) == 6
    assert conference.extra_places(big) == (True, False)
    conference.delegate_cap = 4
    assert conference.delegate_entitlement(big) == 4
    assert conference.delegate_entitlement(UnionFactory()) == 0


def test_delegate_clean_normalises_the_mobile_and_names_the_field_on_error(conference):
    delegate = DelegateFactory.build(conference=conference, organisation=OrganisationFactory(), mobile="07911 123456")
    delegate.full_clean()
    assert delegate.mobile == "+447911123456"

    delegate.mobile = "020 7946 0000"
    with pytest.raises(ValidationError) as error:
        delegate.full_clean()
    assert "mobile" in error.value.message_dict


def test_the_same_mobile_cannot_belong_to_two_delegates_at_one_conference(conference):
    DelegateFactory(conference=conference, mobile="+447700900001")
    with pytest.raises(IntegrityError):
        DelegateFactory(conference=conference, mobile="+447700900001")


def test_delegates_without_a_mobile_do_not_collide(conference):
    DelegateFactory(conference=conference, mobile="")
    DelegateFactory(conference=conference, mobile="")
    assert Delegate.objects.filter(mobile="").count() == 2


def test_conference_section_weights_must_add_to_100(conference):
    conference.clp_section_weight = 60
    with pytest.raises(ValidationError):
        conference.full_clean()
    with pytest.raises(IntegrityError):
        conference.save()


def test_only_one_conference_is_current(conference):
    with pytest.raises(IntegrityError):
        ConferenceFactory(slug="another", is_current=True)


def test_current_falls_back_to_the_latest_conference():
    assert Conference.current() is None
    conference = ConferenceFactory(is_current=False)
    assert Conference.current() == conference


def test_renewed_consent_keeps_the_old_one_as_withdrawn_history(conference):
    coordinator = CoordinatorFactory()
    delegate = DelegateFactory(conference=conference)
    first = record_sms_consent(
        delegate=delegate, method="paper_form", wording="Texts about votes", recorded_by=coordinator
    )
    second = record_sms_consent(
        delegate=delegate, method="in_person", wording="Texts about votes, again", recorded_by=coordinator
    )

    first.refresh_from_db()
    assert first.withdrawn_at is not None
    assert delegate.current_sms_consent() == second
    assert Delegate.objects.with_sms_consent().get(pk=delegate.pk).has_sms_consent is True

    assert withdraw_sms_consent(delegate=delegate, reason="Asked in person") == 1
    assert Delegate.objects.with_sms_consent().get(pk=delegate.pk).has_sms_consent is False
    assert delegate.sms_consents.count() == 2


def test_an_affiliate_has_no_constituency_code():
    union = UnionFactory.build(gss_code="E14000001")
    with pytest.raises(ValidationError) as error:
        union.full_clean()
    assert "gss_code" in error.value.message_dict


def test_organisation_names_are_unique_whatever_their_case():
    OrganisationFactory(name="Liverpool Riverside")
    with pytest.raises(IntegrityError):
        Organisation.objects.create(kind="clp", name="LIVERPOOL RIVERSIDE", region="North West")
