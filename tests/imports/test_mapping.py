"""Column mapping: the explicit mapping first, then English and French synonyms, loosely matched."""

import re
from pathlib import Path

import pytest

from imports.mapping import (
    SYNONYMS,
    YIELDING,
    ColumnMapper,
    MappingError,
    normalize_header,
    plan_mapping,
    validate_explicit_mapping,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"


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


@pytest.mark.parametrize(
    "column, expected",
    [
        # German, Spanish and Italian (issue 14).
        ("Strichcode", "ean"),
        ("EAN-Code", "ean"),
        ("Bezeichnung", "name"),
        ("Preis", "price"),
        ("Código de barras", "ean"),
        ("Precio", "price"),
        ("Codice a barre", "ean"),
        ("Prezzo", "price"),
        # Platforms' exports.
        ("Variant Barcode", "ean"),  # Shopify, classic template
        ("Inventory quantity", "stock"),  # Shopify 2025
        ("GTIN, UPC, EAN, or ISBN", "ean"),  # WooCommerce
        ("Regular price", "price"),
        ("EAN13", "ean"),  # PrestaShop
        ("Name *", "name"),
        ("Price tax excluded", "price"),
        ("Categories (x,y,z...)", "category"),
        ("Reference #", "sku"),
        ("qty", "stock"),  # Magento
        ("Product UPC/EAN", "ean"),  # BigCommerce
        ("Product Code/SKU", "sku"),
        ("Current Stock Level", "stock"),
        ("g:gtin", "ean"),  # Google Merchant
        ("g:product_type", "category"),
        ("PRODUCTNAME", "name"),  # Heureka / Zboží
        ("PRICE_VAT", "price"),
        ("CATEGORYTEXT", "category"),
        ("IMGURL", "image_url"),
        # idealo's offer feed (idealo.github.io/csv-importer): sku brand title categoryPath url eans
        # description price deliveryTime imageUrls
        ("eans", "ean"),
        ("title", "name"),
        ("categoryPath", "category"),
        ("imageUrls", "image_url"),
        ("sku", "sku"),
    ],
)
def test_platform_and_european_headers(column, expected):
    assert field(column) == expected


def test_yielding_names_are_synonyms():
    known = {normalize_header(name) for names in SYNONYMS.values() for name in names}
    assert YIELDING.issubset(known)


@pytest.mark.parametrize(
    "columns, field_name, winner",
    [
        (["Sale price", "Regular price"], "price", "Regular price"),  # WooCommerce's order
        (["Short description", "Description"], "description", "Description"),
        (["Product Type", "Category"], "category", "Category"),  # BigCommerce's order
    ],
)
def test_secondary_names_give_way(columns, field_name, winner):
    assert plan_mapping(columns, [], explicit={}).mapping == {winner: field_name}


def test_each_field_lists_each_spelling_once():
    for product_field, names in SYNONYMS.items():
        keys = [normalize_header(name) for name in names]
        assert len(keys) == len(set(keys)), f"{product_field} lists a name twice (once normalised)"


def test_docs_list_the_synonym_table_as_it_is():
    section = DOCS.read_text().split("## Synonyms", 1)[1].split("\n## ", 1)[0]
    documented = {
        m.group(1): re.findall(r"`([^`]+)`", m.group(2))
        for m in re.finditer(r"^- \*\*(\w+)\*\*: (.*)$", section, re.M)
    }
    assert documented == {f: list(names) for f, names in SYNONYMS.items()}


@pytest.mark.parametrize(
    "columns",
    [["Supplier reference", "Reference", "EAN13"], ["Reference", "Supplier reference", "EAN13"]],
)
def test_a_suppliers_reference_gives_way_to_the_products_own(columns):
    plan = plan_mapping(columns, [], explicit={})
    assert plan.mapping == {"Reference": "sku", "EAN13": "ean"}
    assert plan.mapper.field_for("Supplier reference") is None  # kept in attributes


def test_a_suppliers_reference_alone_is_the_sku():
    assert plan_mapping(["Référence fournisseur", "EAN"], [], explicit={}).mapping == {
        "Référence fournisseur": "sku",
        "EAN": "ean",
    }


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
