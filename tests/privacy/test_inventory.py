"""The personal-data inventory covers every field of every model, so nothing personal is held unaccounted for.

A new model or field in any project app fails here until it is classified in privacy/inventory.py. That the
export really contains every personal field is checked in test_access.py (a person with every kind of record).
"""

from django.apps import apps
from django.conf import settings
from django.db.models import EmailField

from privacy.inventory import INVENTORY, PROJECT_APPS, SUBJECTS, models_holding, personal_fields


def project_models():
    for app_label in PROJECT_APPS:
        try:
            app_config = apps.get_app_config(app_label)
        except LookupError:  # an app without models, not installed yet
            continue
        yield from app_config.get_models(include_auto_created=True)


def test_every_concrete_field_of_every_project_model_is_classified():
    missing = []
    for model in project_models():
        entry = INVENTORY.get(model._meta.label)
        if entry is None:
            missing.append(f"{model._meta.label} (the whole model)")
            continue
        classified = set(entry.classified())
        missing += [f"{model._meta.label}.{f.name}" for f in model._meta.concrete_fields if f.name not in classified]
    assert not missing, (
        "Personal-data inventory (privacy/inventory.py) does not say whether these hold personal data: "
        + ", ".join(missing)
        + ". Add each to `personal` (and whose), `not_exported` (with why) or `non_personal`."
    )


def test_no_field_is_classified_twice_and_every_named_field_exists():
    problems = []
    labels = {model._meta.label: model for model in project_models()}
    for label, entry in INVENTORY.items():
        names = entry.classified()
        problems += [f"{label}.{name} twice" for name in set(names) if names.count(name) > 1]
        model = labels.get(label)
        if model is None:
            problems.append(f"{label} is not a model")
            continue
        existing = {f.name for f in model._meta.concrete_fields}
        problems += [f"{label}.{name} is not a field" for name in names if name not in existing]
    assert not problems, problems


def test_every_personal_field_names_a_known_subject_and_every_exclusion_a_reason():
    for label, entry in INVENTORY.items():
        assert entry.why, label
        for name, whose in entry.personal.items():
            assert whose in SUBJECTS, f"{label}.{name}: {whose!r}"
        for name, reason in entry.not_exported.items():
            assert len(reason) > 20, f"{label}.{name} needs a reason it cannot be exported"


def test_a_field_that_obviously_holds_personal_data_is_never_declared_non_personal():
    """Guards against filing a new mobile, email or link to a person under non_personal to get green."""
    people = {settings.AUTH_USER_MODEL, "delegates.Delegate", "volunteers.Volunteer"}
    for model in project_models():
        entry = INVENTORY.get(model._meta.label)
        for f in model._meta.concrete_fields:
            if entry is None or f.name not in entry.non_personal:
                continue
            points_at_person = f.is_relation and f.related_model._meta.label in people
            looks_personal = any(word in f.name for word in ("mobile", "phone", "email", "first_name", "last_name"))
            assert not (isinstance(f, EmailField) or points_at_person or looks_personal), (
                f"{model._meta.label}.{f.name} holds personal data"
            )


def test_helpers_find_the_fields_erasure_needs():
    assert "mobile" in personal_fields("delegates.Delegate", whose="delegate")
    assert "recorded_by" not in personal_fields("lobbying.StanceChange", whose="delegate")
    assert "delegates.SmsConsent" in models_holding("delegate")
    assert "volunteers.Volunteer" in models_holding("volunteer")
