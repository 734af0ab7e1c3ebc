"""Which file column feeds which product field: the explicit mapping first, then synonyms.

Headers are compared without case, accents, spaces or punctuation, so ``Prix HT``, ``prix_ht``
and ``PRIX-HT`` are one name. Columns that map to nothing end up in ``Product.attributes``.
"""

from __future__ import annotations

import re
import unicodedata

# The fields a column can feed (supplier_code comes from the job, attributes from the leftovers).
PRODUCT_FIELDS = ("ean", "name", "price", "brand", "category", "description", "stock", "image_url", "sku")
IGNORE = ""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "ean": (
        "ean",
        "ean13",
        "ean 13",
        "gtin",
        "gtin13",
        "gtin 13",
        "gtin14",
        "upc",
        "barcode",
        "bar code",
        "code barre",
        "code barres",
        "code ean",
        "code gtin",
        "ean code",
        "ean/gtin",
        "gencod",
        "gencode",
        "european article number",
    ),
    "name": (
        "name",
        "title",
        "product name",
        "product title",
        "product",
        "titre",
        "nom",
        "nom produit",
        "nom du produit",
        "designation",
        "désignation",
        "libelle",
        "libellé",
        "libelle produit",
        "item name",
        "article",
    ),
    "price": (
        "price",
        "unit price",
        "net price",
        "price excl tax",
        "price ht",
        "prix",
        "prix ht",
        "prix unitaire",
        "prix unitaire ht",
        "prix net",
        "tarif",
        "tarif ht",
        "cost",
        "pu ht",
    ),
    "brand": ("brand", "marque", "manufacturer", "fabricant", "brand name", "maker"),
    "category": ("category", "categories", "catégorie", "categorie", "famille", "rayon", "product type"),
    "description": (
        "description",
        "desc",
        "long description",
        "product description",
        "descriptif",
        "détail",
        "details",
    ),
    "stock": (
        "stock",
        "qty",
        "quantity",
        "quantité",
        "quantite",
        "qte",
        "qté",
        "inventory",
        "available",
        "stock level",
        "on hand",
        "disponible",
    ),
    "image_url": (
        "image",
        "image url",
        "image link",
        "picture",
        "photo",
        "url image",
        "image principale",
        "main image",
        "visuel",
    ),
    "sku": (
        "sku",
        "reference",
        "référence",
        "ref",
        "réf",
        "item number",
        "part number",
        "mpn",
        "code article",
    ),
}


def normalize_header(name: str) -> str:
    """``"Prix HT"`` → ``"prixht"``: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", "", without_accents.casefold())


_FIELD_BY_NORMALIZED = {normalize_header(s): field for field, names in SYNONYMS.items() for s in names}


class MappingError(ValueError):
    """An explicit mapping names something that is not a product field."""


def validate_explicit_mapping(mapping: object) -> dict[str, str]:
    """The client's mapping, checked: a JSON object of column → product field (``""`` ignores)."""
    if not isinstance(mapping, dict):
        raise MappingError("mapping must be a JSON object of file column → product field.")
    allowed = {*PRODUCT_FIELDS, IGNORE}
    for column, field in mapping.items():
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

    def __init__(self, explicit: dict[str, str]):
        self.explicit = explicit
        self._explicit_normalized = {normalize_header(c): f for c, f in explicit.items()}
        self._resolved: dict[str, str | None] = {}
        self._taken: set[str] = {f for f in explicit.values() if f}

    def field_for(self, column: str) -> str | None:
        """The product field ``column`` feeds, ``""`` if ignored, or None (→ attributes)."""
        try:
            return self._resolved[column]
        except KeyError:
            pass
        field: str | None
        if column in self.explicit:
            field = self.explicit[column]
        elif normalize_header(column) in self._explicit_normalized:
            field = self._explicit_normalized[normalize_header(column)]
        else:
            field = _FIELD_BY_NORMALIZED.get(normalize_header(column))
            # Two columns both called something like "price": the first one wins, the
            # other stays an attribute rather than silently overwriting it.
            if field is not None and field in self._taken:
                field = None
            elif field is not None:
                self._taken.add(field)
        self._resolved[column] = field
        return field

    def resolve(self, columns: list[str]) -> dict[str, str]:
        """The effective mapping of ``columns`` as stored on the job: mapped and ignored ("")
        columns; the others (absent here) go to attributes."""
        return {c: f for c in columns if (f := self.field_for(c)) is not None}
