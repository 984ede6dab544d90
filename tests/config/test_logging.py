import logging


def test_the_twilio_client_does_not_log_requests_whose_query_carries_a_phone_number():
    assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)
    assert logging.getLogger("messaging.tasks").isEnabledFor(logging.INFO)
