import hashlib

from django.test import override_settings

from messaging.privacy import number_hash


def test_number_hash_is_keyed_stable_and_not_the_bare_hash():
    number = "+447700900123"
    first = number_hash(number)
    assert first == number_hash(number)
    assert first != hashlib.sha256(number.encode()).hexdigest()
    assert first != number_hash("+447700900124")
    with override_settings(OPT_OUT_HASH_KEY="another key"):
        assert number_hash(number) != first
