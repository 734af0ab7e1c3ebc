"""The import vocabulary is read from Product; a field no import can check is refused at once."""

import pytest
from django.db import models

from catalog.vocabulary import FIELDS, MAPPABLE_FIELDS, _imported


def _field(field: models.Field, name: str) -> models.Field:
    field.set_attributes_from_name(name)
    return field


def test_a_text_field_without_a_max_length_is_refused():
    with pytest.raises(TypeError, match=r"Product\.notes needs a max_length"):
        _imported(_field(models.TextField(blank=True, default=""), "notes"))


def test_a_field_of_a_kind_no_import_sets_is_refused():
    with pytest.raises(TypeError, match=r"Product\.released is a DateField"):
        _imported(_field(models.DateField(null=True), "released"))


def test_the_vocabulary_takes_kinds_and_limits_from_the_model():
    assert (FIELDS["price"].kind, FIELDS["price"].max_digits, FIELDS["price"].decimal_places) == (
        "decimal",
        12,
        2,
    )
    assert FIELDS["stock"].kind == "integer" and FIELDS["attributes"].kind == "json"
    assert FIELDS["description"].max_length == 65_000 and FIELDS["image_url"].is_url
    assert "attributes" not in MAPPABLE_FIELDS and "supplier_code" not in FIELDS
