"""Column mapping: the explicit mapping first, then English and French synonyms, loosely matched."""

import pytest

from imports.mapping import SYNONYMS, ColumnMapper, MappingError, normalize_header, validate_explicit_mapping


def field(column: str, explicit: dict | None = None) -> str | None:
    return ColumnMapper(explicit or {}).field_for(column)


@pytest.mark.parametrize(
    "column, expected",
    [
        # The contract's examples.
        ("EAN", "ean"),
        ("GTIN", "ean"),
        ("Code barre", "ean"),
        ("Titre", "name"),
        ("Désignation", "name"),
        ("Product name", "name"),
        ("Prix HT", "price"),
        ("Unit price", "price"),
        # English.
        ("Barcode", "ean"),
        ("UPC", "ean"),
        ("ISBN-13", "ean"),
        ("Title", "name"),
        ("Selling Price", "price"),
        ("Brand", "brand"),
        ("Vendor", "brand"),
        ("Category Path", "category"),
        ("Body (HTML)", "description"),
        ("Qty on hand", "stock"),
        ("Variant Inventory Qty", "stock"),
        ("Image Src", "image_url"),
        ("image_link", "image_url"),
        ("Variant SKU", "sku"),
        ("MPN", "sku"),
        # French.
        ("Code-barres", "ean"),
        ("Gencod", "ean"),
        ("N° EAN", "ean"),
        ("Libellé article", "name"),
        ("Dénomination", "name"),
        ("Prix de vente HT", "price"),
        ("Tarif", "price"),
        ("Marque", "brand"),
        ("Fabricant", "brand"),
        ("Catégorie", "category"),
        ("Famille", "category"),
        ("Descriptif", "description"),
        ("Quantité en stock", "stock"),
        ("Qté", "stock"),
        ("URL de l'image", "image_url"),
        ("Visuel", "image_url"),
        ("Référence fournisseur", "sku"),
        ("Réf.", "sku"),
        ("Code article", "sku"),
    ],
)
def test_synonyms_in_english_and_french(column, expected):
    assert field(column) == expected


@pytest.mark.parametrize("column", ["PRIX_HT", "prix-ht", "Prix H.T.", "  prix   ht ", "Prix\u00a0HT"])
def test_matching_ignores_case_accents_spaces_and_punctuation(column):
    assert field(column) == "price"


def test_normalize_header():
    assert normalize_header("Désignation du Produit") == "designationduproduit"
    assert normalize_header("EAN/GTIN-13") == "eangtin13"


def test_no_synonym_belongs_to_two_fields():
    owners: dict[str, str] = {}
    for product_field, names in SYNONYMS.items():
        for name in names:
            key = normalize_header(name)
            assert owners.setdefault(key, product_field) == product_field, f"{name!r} is ambiguous"


@pytest.mark.parametrize("column", ["id", "special_price", "Disponible le", "color", "Prix TTC", "weight"])
def test_other_columns_map_to_nothing_and_go_to_attributes(column):
    assert field(column) is None


def test_explicit_mapping_wins_over_synonyms_and_takes_the_field():
    mapper = ColumnMapper({"Code interne": "ean", "EAN": ""})
    assert mapper.field_for("Code interne") == "ean"
    assert mapper.field_for("EAN") == ""  # ignored
    assert mapper.field_for("GTIN") is None  # ean is taken: an attribute, not a second ean
    assert mapper.resolve(["Code interne", "EAN", "GTIN", "Titre"]) == {
        "Code interne": "ean",
        "EAN": "",
        "Titre": "name",
    }


def test_explicit_mapping_matches_column_names_loosely():
    assert field("Code Interne", {"code_interne": "ean"}) == "ean"


def test_the_first_of_two_synonymous_columns_wins():
    mapper = ColumnMapper({})
    assert mapper.field_for("Prix HT") == "price"
    assert mapper.field_for("Prix de vente") is None


@pytest.mark.parametrize(
    "mapping, message",
    [
        (["ean"], "mapping must be a JSON object of file column → product field."),
        ({"Code": "barcode"}, "mapping['Code'] = 'barcode' is not a product field"),
        ({"Code": 1}, "mapping['Code'] = 1 is not a product field"),
        ({"A": "ean", "B": "ean"}, "mapping sends several columns to ean; each field takes one column."),
    ],
)
def test_invalid_explicit_mappings_are_refused(mapping, message):
    with pytest.raises(MappingError) as caught:
        validate_explicit_mapping(mapping)
    assert str(caught.value).startswith(message)
