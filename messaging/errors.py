"""Provider error codes in words a coordinator can act on."""

_EXPLAINED = {
    "20003": "Twilio rejected our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
    "20429": "Twilio said we sent too fast; retried later.",
    "21211": "Not a valid phone number.",
    "21408": "Our Twilio account may not send to this country.",
    "21610": "The person unsubscribed (texted STOP to our number); added to the opt-out list.",
    "21612": "Twilio cannot route a text from our number to this one.",
    "21614": "Not a mobile number, so it cannot receive texts.",
    "21617": "The text is too long.",
    "30001": "Twilio's queue for our number overflowed; retried later.",
    "30002": "Our Twilio account is suspended.",
    "30003": "The phone was switched off or out of signal.",
    "30004": "The person's network or the person blocked the message.",
    "30005": "The number does not exist or is no longer in service.",
    "30006": "A landline or a network that cannot receive texts.",
    "30007": "The network filtered the message as spam.",
    "30008": "The network failed to deliver it for an unknown reason.",
    "30034": "Our sender is not registered for this kind of traffic.",
    "connect": "Could not connect to the SMS provider; retried later.",
    "timeout": "The SMS provider did not answer in time; it may or may not have the text.",
    "expired": "Not sent: past its useless-after time.",
    "opted_out": "Not sent: the number is on the opt-out list.",
    "cancelled": "Not sent: cancelled before it went out.",
    "erased": "Not sent: the person's data was erased.",
    "no_consent": "Not sent: nobody with this number has live consent to campaign texts on record.",
}


def explain(code: str | int | None) -> str:
    return _EXPLAINED.get(str(code or ""), "")
