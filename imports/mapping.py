"""Which file column feeds which product field: the explicit mapping first, then synonyms.

Headers are compared without case, accents, spaces or punctuation, so ``Prix HT``, ``prix_ht``
and ``PRIX-HT`` are one name. Columns that map to nothing end up in ``Product.attributes``.
"""

from __future__ import annotations

import re
import unicodedata

from pixee.text import unstorable

# The fields a column can feed (supplier_code comes from the job, attributes from the leftovers).
PRODUCT_FIELDS = ("ean", "name", "price", "brand", "category", "description", "stock", "image_url", "sku")
IGNORE = ""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "ean": (
        # platforms and languages (issue 14)
        "variant barcode",
        "ean13",
        "ean 13",
        "ean-code",
        "ean code",
        "ean nummer",
        "ean-nummer",
        "strichcode",
        "barcode ean",
        "gtin ean",
        "código de barras",
        "codigo de barras",
        "código ean",
        "codice a barre",
        "codice ean",
        "g:gtin",
        "global trade item number",
        "global_trade_item_number",
        "product ean",
        "_barcode",
        "barcode (gtin)",
        "gtin/ean",
        "ean",
        "ean13",
        "ean 13",
        "ean8",
        "gtin",
        "gtin13",
        "gtin 13",
        "gtin14",
        "gtin12",
        "gtin8",
        "upc",
        "upc a",
        "upc code",
        "barcode",
        "bar code",
        "barcode number",
        "code barre",
        "code barres",
        "code barre ean",
        "code ean",
        "code ean13",
        "code gtin",
        "ean code",
        "ean/gtin",
        "ean ucc",
        "numero ean",
        "n ean",
        "gencod",
        "gencode",
        "isbn",  # an ISBN-13 is an EAN-13 (the "Bookland" prefixes 978/979)
        "isbn13",
        "european article number",
        "international article number",
    ),
    "name": (
        # platforms and languages (issue 14)
        "bezeichnung",
        "artikelbezeichnung",
        "produktname",
        "artikelname",
        "name *",
        "productname",
        "product_name",
        "nombre",
        "nombre del producto",
        "nombre producto",
        "título",
        "titulo",
        "nome",
        "nome prodotto",
        "nome del prodotto",
        "titolo",
        "denominazione",
        "g:title",
        "label",
        "item_name",
        "productname",
        "name",
        "title",
        "product name",
        "product title",
        "product",
        "item name",
        "item title",
        "article name",
        "article",
        "titre",
        "titre produit",
        "titre du produit",
        "nom",
        "nom produit",
        "nom du produit",
        "nom article",
        "nom de l'article",
        "nom commercial",
        "designation",
        "désignation",
        "désignation produit",
        "designation article",
        "dénomination",
        "libelle",
        "libellé",
        "libelle produit",
        "libellé article",
        "intitulé",
    ),
    "price": (
        # platforms and languages (issue 14)
        "variant price",
        "preis",
        "verkaufspreis",
        "nettopreis",
        "vk preis",
        "price tax excluded",
        "price_vat",
        "price vat",
        "precio",
        "precio de venta",
        "precio sin iva",
        "prezzo",
        "prezzo di vendita",
        "prezzo netto",
        "g:price",
        "regular price",
        "regular_price",
        "price (eur)",
        "unit_price",
        "price",
        "unit price",
        "net price",
        "net unit price",
        "price excl tax",
        "price excluding tax",
        "price excl vat",
        "price ex vat",
        "price ht",
        "sale price",
        "selling price",
        "retail price",
        "list price",
        "base price",
        "cost",
        "prix",
        "prix ht",
        "prix unitaire",
        "prix unitaire ht",
        "prix unitaire net",
        "prix net",
        "prix net ht",
        "prix de vente",
        "prix de vente ht",
        "prix vente",
        "prix vente ht",
        "prix public",
        "prix public ht",
        "prix catalogue",
        "tarif",
        "tarif ht",
        "tarif unitaire",
        "pu ht",
        "pv ht",
    ),
    "brand": (
        # platforms and languages (issue 14)
        "marke",
        "hersteller",
        "marca",
        "fabricante",
        "produttore",
        "brands",
        "g:brand",
        "manufacturer name",
        "brand",
        "brand name",
        "marque",
        "nom de la marque",
        "nom marque",
        "marque produit",
        "manufacturer",
        "manufacturer name",
        "fabricant",
        "maker",
        "vendor",  # Shopify's name for the brand
    ),
    "category": (
        # platforms and languages (issue 14)
        "kategorie",
        "warengruppe",
        "categoría",
        "categoria",
        "categorie prodotto",
        "g:product_type",
        "categorytext",
        "category text",
        "product category",
        "main category",
        "tax_class_name",
        "category",
        "categories",
        "category name",
        "category path",
        "product category",
        "product type",
        "catégorie",
        "categorie",
        "catégories",
        "catégorie produit",
        "nom catégorie",
        "famille",
        "famille produit",
        "rayon",
        "rubrique",
        "univers",
        "type de produit",
    ),
    "description": (
        # platforms and languages (issue 14)
        "beschreibung",
        "produktbeschreibung",
        "descripción",
        "descripcion",
        "descrizione",
        "g:description",
        "body (html)",
        "long description",
        "short description",
        "description",
        "desc",
        "long description",
        "full description",
        "long desc",
        "product description",
        "body html",  # Shopify's "Body (HTML)"
        "descriptif",
        "descriptif produit",
        "description produit",
        "description longue",
        "texte descriptif",
        "détail",
        "details",
    ),
    "stock": (
        # platforms and languages (issue 14)
        "bestand",
        "lagerbestand",
        "menge",
        "verfügbar",
        "existencias",
        "cantidad",
        "stock disponible",
        "quantità",
        "giacenza",
        "disponibilità",
        "inventory quantity",
        "stock quantity",
        "stock_quantity",
        "qty",
        "quantity in stock",
        "stock",
        "qty",
        "quantity",
        "quantity available",
        "available quantity",
        "quantity in stock",
        "qty available",
        "qty on hand",
        "units in stock",
        "stock qty",
        "stock quantity",
        "stock level",
        "inventory",
        "inventory quantity",
        "variant inventory qty",  # Shopify
        "available",
        "on hand",
        "quantité",
        "quantite",
        "quantité en stock",
        "quantité disponible",
        "qte",
        "qté",
        "qté stock",
        "qte disponible",
        "stock disponible",
        "niveau de stock",
        "en stock",
        "disponible",
    ),
    "image_url": (
        # platforms and languages (issue 14)
        "bild",
        "bild url",
        "bildurl",
        "imagen",
        "url imagen",
        "immagine",
        "url immagine",
        "g:image_link",
        "imgurl",
        "image url",
        "image_url",
        "base image",
        "base_image",
        "images",
        "product image url",
        "image (url)",
        "main image url",
        "image",
        "image url",
        "image link",  # Google Merchant's image_link
        "image src",  # Shopify
        "image 1",
        "main image",
        "main image url",
        "picture",
        "picture url",
        "photo",
        "photo url",
        "url image",
        "url de l'image",
        "url photo",
        "lien image",
        "image principale",
        "visuel",
        "visuel principal",
    ),
    "sku": (
        # platforms and languages (issue 14)
        "artikelnummer",
        "artikel nr",
        "herstellernummer",
        "referencia",
        "código",
        "codigo",
        "codice",
        "codice articolo",
        "g:mpn",
        "g:id",
        "item_id",
        "reference #",
        "reference",
        "product number",
        "identifier",
        "variant sku",
        "offer id",
        "offer_id",
        "mpn",
        "sku",
        "sku code",
        "variant sku",  # Shopify
        "supplier sku",
        "vendor sku",
        "reference",
        "référence",
        "référence produit",
        "référence fournisseur",
        "supplier reference",
        "ref",
        "réf",
        "ref fournisseur",
        "item number",
        "item code",
        "item no",
        "article number",
        "art nr",
        "part number",
        "mpn",
        "product code",
        "code article",
        "code produit",
    ),
}


def normalize_header(name: str) -> str:
    """``"Prix HT"`` → ``"prixht"``: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", without_accents.casefold())


_FIELD_BY_NORMALIZED = {normalize_header(s): field for field, names in SYNONYMS.items() for s in names}


def synonym_field(column: str) -> str | None:
    """The field ``column``'s name is a synonym of; a namespaced name (``g:gtin``) is also
    tried without its prefix, and a dotted path (``meta.barcode``) by its last key."""
    field = _FIELD_BY_NORMALIZED.get(normalize_header(column))
    if field is None and ":" in column:
        field = _FIELD_BY_NORMALIZED.get(normalize_header(column.rpartition(":")[2]))
    return field


class MappingError(ValueError):
    """An explicit mapping names something that is not a product field."""


def validate_explicit_mapping(mapping: object) -> dict[str, str]:
    """The client's mapping, checked: a JSON object of column → product field (``""`` ignores)."""
    if not isinstance(mapping, dict):
        raise MappingError("mapping must be a JSON object of file column → product field.")
    allowed = {*PRODUCT_FIELDS, IGNORE}
    for column, field in mapping.items():
        if problem := unstorable(column):
            # No file column has one, and the job's mapping (jsonb) could not be saved.
            raise MappingError(f"mapping's column names cannot hold {problem}.")
        if not isinstance(field, str) or field not in allowed:
            raise MappingError(
                f"mapping['{column}'] = {field!r} is not a product field "
                f'(expected one of: {", ".join(PRODUCT_FIELDS)}, or "" to ignore the column).'
            )
    fields = [f for f in mapping.values() if f]
    duplicates = sorted({f for f in fields if fields.count(f) > 1})
    if duplicates:
        raise MappingError(
            f"mapping sends several columns to {', '.join(duplicates)}; each field takes one column."
        )
    return dict(mapping)


class ColumnMapper:
    """Resolves each column once; JSON and XML records may bring new columns as they go."""

    def __init__(self, explicit: dict[str, str], *, to_attributes: frozenset[str] = frozenset()):
        self.explicit = explicit
        # Synonym matches whose sampled values did not fit their field (see ``plan_mapping``).
        self.to_attributes = to_attributes
        self._explicit_normalized = {normalize_header(c): f for c, f in explicit.items()}
        self._resolved: dict[str, str | None] = {}
        self._taken: dict[str, str] = {f: "" for f in explicit.values() if f}  # field -> local name

    def field_for(self, column: str) -> str | None:
        """The product field ``column`` feeds, ``""`` if ignored, or None (→ attributes)."""
        try:
            return self._resolved[column]
        except KeyError:
            pass
        field: str | None
        local = normalize_header(column.rpartition(":")[2])  # g:gtin → gtin
        if column in self.explicit:
            field = self.explicit[column]
        elif normalize_header(column) in self._explicit_normalized:
            field = self._explicit_normalized[normalize_header(column)]
        elif local in self._explicit_normalized:
            field = self._explicit_normalized[local]
        elif column in self.to_attributes:
            field = None
        else:
            field = synonym_field(column)
            # Two columns both called something like "price": the first one wins, the other
            # stays an attribute rather than silently overwriting it. ``ean`` as an attribute
            # and ``g:ean`` as an element of the same records are one column, not two.
            if field is not None and self._taken.get(field, local) != local:
                field = None
            elif field is not None:
                self._taken[field] = local
        self._resolved[column] = field
        return field

    def resolve(self, columns: list[str]) -> dict[str, str]:
        """The effective mapping of ``columns`` as stored on the job: mapped and ignored ("")
        columns; the others (absent here) go to attributes."""
        return {c: f for c in columns if (f := self.field_for(c)) is not None}
