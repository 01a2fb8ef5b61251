"""/volunteers/join/: clear errors with everything kept, a honeypot, per-address limits."""

from __future__ import annotations

import re

import pytest

from volunteers.models import Volunteer

from .factories import SkillFactory

pytestmark = pytest.mark.django_db
JOIN = "/volunteers/join/"


@pytest.fixture
def data(street, community, building):
    skill = SkillFactory(code="t-haircut", name="理发")
    return {
        "name": "王秀英", "phone": "13912345678", "street": str(street.pk), "community": str(community.pk),
        "building": str(building.pk), "skills": [str(skill.pk)], "availability": "周末", "consent": "on",
        "website": "",
    }


def test_the_form_page_offers_the_places_and_skills(en_client, street, community, data):
    page = en_client.get(JOIN).content.decode()
    assert "Become a volunteer" in page and street.name in page and "理发" in page


def test_the_front_page_leads_residents_to_the_registration_form(en_client):
    page = en_client.get("/").content.decode()
    assert f'href="{JOIN}"' in page and "Register as a volunteer" in page


def test_the_skills_are_a_group_named_by_the_question(en_client, data):
    page = en_client.get(JOIN).content.decode()
    group = re.search(r'<fieldset class="field-group"><legend>What can you do\?</legend>.*?</fieldset>', page, re.DOTALL)
    assert group and "理发" in group.group(0) and 'type="checkbox"' in group.group(0)


def test_a_registration_waits_for_the_community(en_client, data, building):
    response = en_client.post(JOIN, data)

    assert response.status_code == 302 and response["Location"] == "/volunteers/join/done/"
    volunteer = Volunteer.objects.get()
    assert (volunteer.status, volunteer.source, volunteer.unit) == ("applied", "self", building.unit)
    assert "王秀英" in en_client.get("/volunteers/join/done/").content.decode()


def test_bad_fields_are_explained_and_everything_typed_is_kept(en_client, data):
    response = en_client.post(JOIN, {**data, "phone": "12345", "consent": ""})

    page = response.content.decode()
    assert response.status_code == 200 and not Volunteer.objects.exists()
    assert "Enter a mainland mobile number" in page and "Your consent is needed to register." in page
    assert 'value="王秀英"' in page and 'value="周末"' in page and "checked" in page


def test_a_community_must_be_chosen(en_client, data):
    response = en_client.post(JOIN, {**data, "community": "", "building": ""})
    assert "Choose the community where you live." in response.content.decode()


def test_an_employer_party_organisation_needs_party_membership(en_client, data):
    response = en_client.post(JOIN, {**data, "employer_party_org": "燕山石化炼油厂党委"})
    assert "Tick this if you report from your employer" in response.content.decode()
    assert not Volunteer.objects.exists()


def test_the_honeypot_refuses_bots(en_client, data):
    response = en_client.post(JOIN, {**data, "website": "http://spam.example"})
    assert "could not be accepted" in response.content.decode() and not Volunteer.objects.exists()


def test_a_double_tap_makes_one_registration_and_thanks_twice(en_client, data):
    en_client.post(JOIN, data)
    second = en_client.post(JOIN, data)

    assert second.status_code == 302 and Volunteer.objects.count() == 1


def test_a_number_already_on_a_roster_is_explained(en_client, data, community):
    from .factories import VolunteerFactory

    VolunteerFactory(phone="13912345678", unit=community, name="别人")
    response = en_client.post(JOIN, data)

    assert "already on a volunteer roster" in response.content.decode()


def test_too_many_registrations_from_one_address_are_throttled_and_kept(en_client, data, settings):
    settings.PUBLIC_VOLUNTEER_JOIN_ACCEPTED_RATE = "2/h"
    for i in range(2):
        assert en_client.post(JOIN, {**data, "phone": f"1391234560{i}"}).status_code == 302

    response = en_client.post(JOIN, {**data, "phone": "13912345609", "name": "第三位"})

    assert response.status_code == 429
    assert "Too many registrations" in response.content.decode() and 'value="第三位"' in response.content.decode()
    assert Volunteer.objects.count() == 2
    other = en_client.post(JOIN, {**data, "phone": "13912345608"}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_the_place_lists_follow_the_chosen_community(en_client, street, community, building):
    page = en_client.get("/volunteers/join/places/", {"street": street.pk, "community": community.pk}).content.decode()
    assert building.name in page


def test_a_registration_refused_by_the_csrf_check_comes_back_filled_in_and_can_be_sent_again(data):
    """The page was open too long or the browser refused the cookie: nothing registered, nothing typed lost."""
    from django.test import Client

    resident = Client(enforce_csrf_checks=True)
    refused = resident.post(JOIN, data)

    page = refused.content.decode()
    assert refused.status_code == 403 and not Volunteer.objects.exists()
    assert "您的登记没有提交" in page and 'value="王秀英"' in page and 'value="13912345678"' in page
    assert re.search(rf'value="{data["skills"][0]}"[^>]*checked', page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    sent = resident.post(JOIN, {**data, "csrfmiddlewaretoken": token})

    assert sent.status_code == 302 and Volunteer.objects.get().name == "王秀英"
