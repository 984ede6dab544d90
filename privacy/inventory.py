"""The personal-data inventory: for every model of Cardvote's own apps, which fields hold personal data and of
whom, which do not, and why the rows are held.

Every concrete field of every model (many-to-many link tables included) is in exactly one of three lists:

- ``personal``: holds or points at personal data of ``whose`` (a delegate, a volunteer, the holder of a phone
  number, an organisation's contact, a coordinator). In a row about a person *every* attribute is personal
  (a sign-up's status says where that volunteer was), not only names and numbers. A subject access export
  (``privacy.access``) contains every such field of every row found for the person, coordinators excepted
  (see ``COORDINATOR``).
- ``not_exported``: personal, but held in bulk and not findable per person, with the reason (an uploaded
  spreadsheet waiting two hours for its confirmation).
- ``non_personal``: surrogate keys, links to non-personal rows, and fields about motions, shifts or
  organisations (free-text notes there are about the thing, not a person).

``tests/privacy/test_inventory.py`` walks ``apps.get_models()`` and fails when a field is unclassified or
classified twice, and the export test fails when a personal field is missing from an export. Erasure and
retention read ``personal_fields`` to know what to remove. A new field: add it here, in the right list.
"""

from dataclasses import dataclass, field

PROJECT_APPS = ("config", "messaging", "delegates", "lobbying", "volunteers", "privacy", "dashboard")

# Whose personal data a field holds.
DELEGATE = "delegate"
VOLUNTEER = "volunteer"
PHONE_NUMBER = "phone number"  # whoever holds the number: texts and opt-outs are kept by number, not by person
CONTACT = "organisation contact"  # a CLP secretary or local contact
# Coordinators are named as the author of records about others (who recorded a stance). Their subject access
# export lists their account and how many records name them, never those records: they hold other people's
# political opinions.
COORDINATOR = "coordinator"
SUBJECTS = (DELEGATE, VOLUNTEER, PHONE_NUMBER, CONTACT, COORDINATOR)


@dataclass(frozen=True)
class ModelInventory:
    why: str  # why the rows are held, in a sentence a person can read
    personal: dict[str, str] = field(default_factory=dict)  # field name → whose (one of SUBJECTS)
    non_personal: tuple[str, ...] = ("id",)
    not_exported: dict[str, str] = field(default_factory=dict)  # field name → reason

    def classified(self) -> list[str]:
        return [*self.personal, *self.non_personal, *self.not_exported]


D, V, P, C, U = DELEGATE, VOLUNTEER, PHONE_NUMBER, CONTACT, COORDINATOR


def _all(whose: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, whose)


INVENTORY: dict[str, ModelInventory] = {
    # --- delegates ---------------------------------------------------------------------------------------
    "delegates.Conference": ModelInventory(
        why="The conference and its rules.",
        non_personal=(
            "id",
            "name",
            "slug",
            "organiser",
            "venue",
            "starts_on",
            "ends_on",
            "timezone",
            "is_current",
            "motion_title_max_words",
            "motion_text_max_words",
            "motions_deadline",
            "emergency_motions_deadline",
            "priorities_per_section",
            "composite_delegates_per_organisation",
            "clp_section_weight",
            "affiliate_section_weight",
            "delegate_first_band",
            "delegate_band",
            "delegate_cap",
            "extra_woman_min_women",
            "extra_youth_min_young",
            "retention_days",
        ),
    ),
    "delegates.Organisation": ModelInventory(
        why="CLPs and affiliates, with the secretary we contact about our motion.",
        personal=_all(C, "secretary_name", "secretary_email", "secretary_phone"),
        non_personal=(
            "id",
            "kind",
            "name",
            "short_name",
            "gss_code",
            "region",
            "nation",
            "membership",
            "women_members",
            "young_members",
            "notes",
            "created_at",
            "updated_at",
        ),
    ),
    "delegates.Delegate": ModelInventory(
        why="A delegate we lobby: from the party's list or added by a coordinator.",
        personal=_all(
            D,
            "conference",
            "organisation",
            "first_name",
            "last_name",
            "gender",
            "seat_type",
            "is_attending",
            "mobile",
            "email",
            "notes",
            "erased_at",
            "created_at",
            "updated_at",
        ),
    ),
    "delegates.SmsConsent": ModelInventory(
        why="Proof of a delegate's consent to texts (PECR): when, how, the wording shown, its withdrawal.",
        personal={
            **_all(D, "delegate", "given_at", "method", "wording", "source", "withdrawn_at", "withdrawal_reason"),
            "recorded_by": U,
        },
    ),
    "delegates.ImportColumnMapping": ModelInventory(
        why="Which column of a party spreadsheet holds what, remembered for the next file.",
        personal={"updated_by": U},
        non_personal=("id", "kind", "heading", "field", "updated_at"),
    ),
    "delegates.PendingImport": ModelInventory(
        why="An uploaded spreadsheet between its preview and its confirmation; deleted within two hours.",
        personal={"created_by": U},
        non_personal=(
            "id",
            "token",
            "kind",
            "conference",
            "file_name",
            "mapping",
            "skip_bad_rows",
            "status",
            "rows_total",
            "rows_done",
            "created_at",
            "updated_at",
        ),
        not_exported={
            "data": "the whole uploaded file, deleted on confirm or cancel and by beat within two hours",
            "report": "the preview of that file (line numbers and reasons), deleted with it",
        },
    ),
    # --- lobbying ----------------------------------------------------------------------------------------
    "lobbying.Subject": ModelInventory(
        why="A conference subject (topic) and its priorities ballot.",
        non_personal=(
            "id",
            "conference",
            "name",
            "clp_priority_votes",
            "affiliate_priority_votes",
            "prioritised_by_clps",
            "prioritised_by_affiliates",
        ),
    ),
    "lobbying.Motion": ModelInventory(
        why="Motions through their life.",
        non_personal=(
            "id",
            "conference",
            "subject",
            "title",
            "text",
            "kind",
            "position",
            "is_campaign_motion",
            "status",
            "cac_reason",
            "composite",
            "composite_number",
            "mover",
            "seconder",
            "scheduled_for",
            "session",
            "created_at",
            "updated_at",
        ),
    ),
    "lobbying.Motion_submitted_by": ModelInventory(
        why="Which organisations submitted a motion.", non_personal=("id", "motion", "organisation")
    ),
    "lobbying.MotionStatusChange": ModelInventory(
        why="A motion's history, with who moved it.",
        personal={"changed_by": U},
        non_personal=("id", "motion", "from_status", "to_status", "reason", "at"),
    ),
    "lobbying.Result": ModelInventory(
        why="A vote's result as announced.",
        personal={"recorded_by": U},
        non_personal=(
            "id",
            "motion",
            "method",
            "card_vote_number",
            "clp_for",
            "clp_against",
            "affiliates_for",
            "affiliates_against",
            "total_for",
            "total_against",
            "recorded_at",
        ),
    ),
    "lobbying.Submission": ModelInventory(
        why="A CLP's progress with our motion, and whom we talk to there.",
        personal={"local_contact": C},
        non_personal=("id", "motion", "organisation", "stage", "stage_changed_at", "meeting_on", "notes", "created_at"),
    ),
    "lobbying.SubmissionStageChange": ModelInventory(
        why="A submission's history, with who moved it.",
        personal={"changed_by": U},
        non_personal=("id", "submission", "from_stage", "to_stage", "note", "at"),
    ),
    "lobbying.StanceChange": ModelInventory(
        why="A delegate's stance on a motion over time (a political opinion: special category data), and each "
        "conversation that recorded it.",
        personal={
            **_all(D, "delegate", "motion", "level", "source", "confidence", "note", "at"),
            "recorded_by": U,
            "recorded_by_name": V,  # a volunteer recording through their private link
        },
    ),
    "lobbying.LobbyingAssignment": ModelInventory(
        why="A volunteer's lobbying list: whom to talk to, and their private link.",
        personal=_all(
            V,
            "conference",
            "motion",
            "volunteer_name",
            "volunteer_mobile",
            "volunteer_ref",
            "ask",
            "created_at",
            "expires_at",
            "revoked_at",
        )
        | {"created_by": U},
    ),
    "lobbying.LobbyingAssignment_delegates": ModelInventory(
        why="The delegates on a volunteer's lobbying list.",
        personal={"delegate": D, "lobbyingassignment": D},
    ),
    "lobbying.Briefing": ModelInventory(
        why="A text briefing to an audience of delegates (the audience as filters, not people).",
        personal={"created_by": U},
        non_personal=(
            "id",
            "conference",
            "motion",
            "body",
            "stance_levels",
            "sections",
            "regions",
            "saved_list",
            "status",
            "send_at",
            "send_before_motion",
            "send_lead",
            "useless_after",
            "created_at",
            "updated_at",
        ),
    ),
    "lobbying.SavedList": ModelInventory(
        why="A coordinator's named list of delegates, usable as a briefing's audience.",
        personal={"created_by": U},
        non_personal=("id", "conference", "name", "created_at"),
    ),
    "lobbying.SavedList_delegates": ModelInventory(
        why="The delegates on a saved list.", personal={"delegate": D, "savedlist": D}
    ),
    "lobbying.CoordinatorProfile": ModelInventory(
        why="A coordinator's own mobile, for test briefings.", personal=_all(U, "user", "mobile")
    ),
    "lobbying.Briefing_organisations": ModelInventory(
        why="The organisations a briefing is for.", non_personal=("id", "briefing", "organisation")
    ),
    "lobbying.BriefingStatusChange": ModelInventory(
        why="A briefing's history, with who moved it.",
        personal={"changed_by": U},
        non_personal=("id", "briefing", "from_status", "to_status", "reason", "at"),
    ),
    "lobbying.BriefingRecipient": ModelInventory(
        why="Who a briefing went to, with the text as merged for them.",
        personal=_all(D, "briefing", "delegate", "body", "idempotency_key", "created_at"),
    ),
    "lobbying.ProposedStance": ModelInventory(
        why="A delegate's reply to a briefing read as their stance (a political opinion), waiting for or decided "
        "by a coordinator.",
        personal={
            **_all(D, "delegate", "motion", "briefing", "level", "inbound", "status", "stance_change", "decided_at"),
            "created_at": D,
            "decided_by": U,
        },
    ),
    # --- volunteers --------------------------------------------------------------------------------------
    "volunteers.Location": ModelInventory(
        why="Where shifts happen.", non_personal=("id", "conference", "name", "directions")
    ),
    "volunteers.Shift": ModelInventory(
        why="A volunteer shift, with its lead.",
        personal={"lead": V},
        non_personal=(
            "id",
            "conference",
            "role",
            "location",
            "starts_at",
            "ends_at",
            "capacity",
            "minimum",
            "notes",
            "cancelled",
            "created_at",
            "updated_at",
        ),
    ),
    "volunteers.Volunteer": ModelInventory(
        why="A volunteer who signed up for shifts, with their consent to shift texts.",
        personal=_all(
            V,
            "name",
            "mobile",
            "email",
            "consent_given_at",
            "consent_wording",
            "consent_source",
            "last_asked_to_cover_at",
            "erased_at",
            "created_at",
        ),
    ),
    "volunteers.VolunteerConsent": ModelInventory(
        why="Proof of a volunteer's consent to texts (PECR): when, where, the wording shown, its withdrawal.",
        personal={
            **_all(V, "volunteer", "given_at", "source", "wording", "withdrawn_at", "withdrawal_reason"),
            "recorded_by": U,
        },
    ),
    "volunteers.Signup": ModelInventory(
        why="A volunteer's place on a shift (confirmed, waitlisted, cancelled, attended).",
        personal=_all(
            V,
            "shift",
            "volunteer",
            "status",
            "queued_at",
            "offer_expires_at",
            "reconfirmed_at",
            "created_at",
            "updated_at",
        ),
    ),
    "volunteers.SignupChange": ModelInventory(
        why="A sign-up's history.",
        personal={**_all(V, "signup", "from_status", "to_status", "reason", "source", "form_token", "at"), "by": U},
    ),
    # --- messaging ---------------------------------------------------------------------------------------
    "messaging.OutboundMessage": ModelInventory(
        why="Every text we sent or tried to send, and its delivery.",
        personal=_all(
            P,
            "idempotency_key",
            "to",
            "body",
            "purpose",
            "batch",
            "marketing",
            "opt_out_exempt",
            "consent_basis",
            "status",
            "useless_after",
            "provider_sid",
            "error_code",
            "error_message",
            "attempts",
            "segments",
            "encoding",
            "next_attempt_at",
            "created_at",
            "claimed_at",
            "sent_at",
            "delivered_at",
            "updated_at",
        ),
    ),
    "messaging.OutboundBatch": ModelInventory(
        why="Whether a batch of texts (a briefing) is sending, paused or cancelled.",
        non_personal=("id", "label", "state", "reason", "updated_at"),
    ),
    "messaging.OutboundStatusChange": ModelInventory(
        why="A text's delivery history.",
        personal=_all(P, "message", "from_status", "to_status", "at", "reason", "error_code"),
    ),
    "messaging.InboundMessage": ModelInventory(
        why="Texts people sent us (replies, STOP), and who handled them.",
        personal={
            **_all(
                P,
                "from_number",
                "to_number",
                "body",
                "provider_sid",
                "received_at",
                "purpose",
                "in_reply_to",
                "keyword",
                "looks_like_opt_out",
                "handled",
                "handled_at",
            ),
            "handled_by": U,
        },
    ),
    "messaging.OptOut": ModelInventory(
        why="Numbers that asked not to be texted: kept so they never are.",
        personal=_all(P, "number", "opted_out", "updated_at"),
        not_exported={
            "number_hash": "A keyed hash of the number, kept after erasure so it is never texted again; "
            "meaningless without the key, so not exported."
        },
    ),
    "messaging.OptOutEvent": ModelInventory(
        why="Each opt-out and opt-in of a number.",
        personal=_all(P, "opt_out", "number", "action", "source", "at", "keyword"),
    ),
    # --- privacy -----------------------------------------------------------------------------------------
    "privacy.AuditEvent": ModelInventory(
        why="Who exported, imported, downloaded in bulk or erased personal data, and how much (no personal data).",
        personal={"actor": U},
        non_personal=("id", "action", "what", "count", "detail", "at"),
    ),
}


def personal_fields(label: str, *, whose: str | None = None) -> list[str]:
    """Names of a model's personal fields (all, or one subject's), e.g. for erasure."""
    entry = INVENTORY[label]
    return [name for name, subject in entry.personal.items() if whose is None or subject == whose]


def models_holding(whose: str) -> list[str]:
    """Labels of the models with a personal field of ``whose``."""
    return [label for label, entry in INVENTORY.items() if whose in entry.personal.values()]
