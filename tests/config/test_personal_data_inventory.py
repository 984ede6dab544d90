"""Everyone runs tests/config before landing, so a new field that holds personal data is classified the day it is
added (privacy/inventory.py), not discovered at the next full run. The test itself lives in tests/privacy."""

from tests.privacy.test_inventory import test_every_concrete_field_of_every_project_model_is_classified  # noqa: F401
