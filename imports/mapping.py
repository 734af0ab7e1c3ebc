"""Which file column feeds which product field: the explicit mapping first, then synonyms.

Headers are compared without case, accents, spaces or punctuation, so ``Prix HT``, ``prix_ht``
and ``PRIX-HT`` are one name. Columns that map to nothing end up in ``Product.attributes``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from catalog.ean import EanError, normalize_ean
from catalog.vocabulary import MAPPABLE_FIELDS
from pixee.text import unstorable

from .values import ValueProblem, is_http_url, parse_price, parse_stock

IGNORE = ""

SYNONYMS: dict[str, tuple[str, ...]] = {
    "ean": (
        # platforms and languages (issue 14)
        "variant barcode",
        "gtin, upc, ean, or isbn",  # WooCommerce (9.2 and later)
        "gtin, upc, ean oder isbn",  # WooCommerce in German
        "product upc/ean",  # BigCommerce
        "gps global trade item number",  # BigCommerce's Google Shopping field
        "eans",  # idealo's offer feed (one EAN; several, separated, do not fit and are not applied)
        "ean 13",
        "ean code",
        "ean nummer",
        "strichcode",
        "barcode ean",
        "gtin ean",
        "código de barras",
        "código ean",
        "codice a barre",
        "codice ean",
        "g:gtin",
        "global trade item number",
        "product ean",
        "barcode (gtin)",
        "ean",
        "ean8",
        "gtin",
        "gtin 13",
        "gtin14",
        "gtin12",
        "gtin8",
        "upc",
        "upc a",
        "upc code",
        "barcode",
        "barcode number",
        "code barre",
        "code barres",
        "code barre ean",
        "code ean",
        "code ean13",
        "code gtin",
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
        "nombre",
        "nombre del producto",
        "nombre producto",
        "título",
        "nome",
        "nome prodotto",
        "nome del prodotto",
        "titolo",
        "denominazione",
        "g:title",
        "label",
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
        "désignation produit",
        "designation article",
        "dénomination",
        "libelle",
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
        "price vat",
        "precio",
        "precio de venta",
        "precio sin iva",
        "prezzo",
        "prezzo di vendita",
        "prezzo netto",
        "g:price",
        "regular price",
        "price (eur)",
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
        "fabricant",
        "maker",
        "vendor",  # Shopify's name for the brand
    ),
    "category": (
        # platforms and languages (issue 14)
        "kategorie",
        "warengruppe",
        "categoría",
        "categorie prodotto",
        "g:product_type",
        "category text",
        "product category",
        "main category",
        "tax_class_name",
        "category",
        "categories",
        "categories (x,y,z...)",  # PrestaShop
        "category name",
        "category path",
        "product type",
        "catégorie",
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
        "descrizione",
        "g:description",
        "body (html)",
        "long description",
        "short description",
        "description",
        "desc",
        "full description",
        "long desc",
        "product description",
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
        "qty",
        "quantity in stock",
        "stock",
        "quantity",
        "quantity available",
        "available quantity",
        "qty available",
        "qty on hand",
        "units in stock",
        "stock qty",
        "stock level",
        "current stock level",  # BigCommerce
        "inventory",
        "variant inventory qty",  # Shopify
        "available",
        "on hand",
        "quantité",
        "quantité en stock",
        "quantité disponible",
        "qte",
        "qté stock",
        "qte disponible",
        "niveau de stock",
        "en stock",
        "disponible",
    ),
    "image_url": (
        # platforms and languages (issue 14)
        "bild",
        "bild url",
        "imagen",
        "url imagen",
        "immagine",
        "url immagine",
        "g:image_link",
        "imgurl",
        "image url",
        "base image",
        "images",
        "product image url",
        "main image url",
        "image",
        "image link",  # Google Merchant's image_link
        "image src",  # Shopify
        "image 1",
        "main image",
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
        "image urls",  # idealo's imageUrls (several addresses do not fit and are not applied)
    ),
    "sku": (
        # platforms and languages (issue 14)
        "artikelnummer",
        "artikel nr",
        "herstellernummer",
        "referencia",
        "código",
        "codice",
        "codice articolo",
        "g:mpn",
        "g:id",
        "item_id",
        "reference",
        "product number",
        "identifier",
        "variant sku",
        "offer id",
        "mpn",
        "sku",
        "sku code",
        "product code/sku",  # BigCommerce
        "supplier sku",
        "vendor sku",
        "référence produit",
        "référence fournisseur",
        "supplier reference",
        "ref",
        "ref fournisseur",
        "item number",
        "item code",
        "item no",
        "article number",
        "art nr",
        "part number",
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
# Synonyms that give way to another column of the file matching the same field, wherever it
# stands: a supplier's reference is the sku only when the product's own is absent (PrestaShop's
# combinations put "Supplier reference" before "Reference"), a sale price (often blank) gives way
# to the regular one and a short description to the full one (WooCommerce lists both in that
# order), and BigCommerce's "Product Type" (physical or digital) to its "Category".
YIELDING = frozenset(
    normalize_header(name)
    for name in (
        "supplier reference",
        "supplier sku",
        "vendor sku",
        "référence fournisseur",
        "ref fournisseur",
        "sale price",
        "short description",
        "product type",
    )
)


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
    allowed = {*MAPPABLE_FIELDS, IGNORE}
    for column, field in mapping.items():
        if problem := unstorable(column):
            # No file column has one, and the job's mapping (jsonb) could not be saved.
            raise MappingError(f"mapping's column names cannot hold {problem}.")
        if not isinstance(field, str) or field not in allowed:
            raise MappingError(
                f"mapping['{column}'] = {field!r} is not a product field "
                f'(expected one of: {", ".join(MAPPABLE_FIELDS)}, or "" to ignore the column).'
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
        # field -> the local name of the column feeding it
        self._taken = {f: normalize_header(c.rpartition(":")[2]) for c, f in explicit.items() if f}
        # Mapped dotted paths into nested records (JSON objects, XML groups): ``meta.barcode``.
        self.paths = [c for c, f in explicit.items() if "." in c and f]
        # on_invalid_value=skip_value: the validator keeps a row without its unusable values.
        self.skip_invalid_values = False

    def expand(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` plus the value of each mapped dotted path, as a column of that name."""
        found = {p: v for p in self.paths if p not in values and (v := value_at(values, p)) is not None}
        return {**values, **found} if found else values

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
        columns, and mapped dotted paths; the others (absent here) go to attributes."""
        resolved = {c: f for c in columns if (f := self.field_for(c)) is not None}
        return {**resolved, **{p: self.explicit[p] for p in self.paths if p not in resolved}}


# --- mapping from the values (issue 14) ------------------------------------------------------

SAMPLE_ROWS = 200
# A column whose non-blank sampled values are at least this share of valid GTINs is the EAN
# column when no header says so.
EAN_BY_VALUES_SHARE = 0.8
# A synonym match is dropped (the column goes to attributes) when more than this share of its
# non-blank sampled values do not fit the field: ``quantity`` = "500 g" is no stock.
MISFIT_SHARE = 0.5
# Fewer non-blank sampled values than this decide nothing: their row errors say more.
MIN_SAMPLED_VALUES = 10
NESTED_DEPTH = 3


@dataclass
class MappingPlan:
    """The mapper the analysis validates with, the effective mapping and where each entry came from."""

    mapper: ColumnMapper
    mapping: dict[str, str]
    sources: dict[str, str]
    notes: list[str] = dc_field(default_factory=list)  # info logs: what the values decided
    warnings: list[str] = dc_field(default_factory=list)  # synonym matches not applied


def nested_paths(values: dict[str, Any], prefix: str = "", depth: int = 1) -> Iterator[tuple[str, Any]]:
    """``{"meta": {"barcode": "1"}}`` → ``("meta.barcode", "1")``: the leaves under objects (not lists)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth < NESTED_DEPTH:
                yield from nested_paths(value, f"{path}.", depth + 1)
        elif prefix:
            yield path, value


def value_at(values: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a nested record, or None."""
    current: Any = values
    for key in path.split("."):
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


def plan_mapping(
    columns: list[str],
    sample: list[dict[str, Any]],
    *,
    explicit: dict[str, str],
    supplier: dict[str, str] | None = None,
) -> MappingPlan:
    """Resolve the mapping of ``columns`` from the explicit mapping, then the supplier's stored
    one, then header synonyms checked against ``sample`` (the first rows' values), then values.

    Pure: the caller saves ``mapping`` and ``sources`` on the job and logs the notes and warnings.
    """
    requested = explicit or dict(supplier or {})
    origin = "explicit" if explicit else "supplier"
    paths = sorted({path for row in sample for path, _ in nested_paths(row)} - set(columns))
    candidates = [*columns, *paths]
    sources: dict[str, str] = {}
    warnings: list[str] = []
    taken = {f for f in requested.values() if f}
    to_attributes: set[str] = set()
    resolved: dict[str, str] = {}
    # Stable: file order, except that yielding synonyms come last (see ``YIELDING``).
    for column in sorted(candidates, key=lambda c: normalize_header(c.rpartition(".")[2]) in YIELDING):
        field = ColumnMapper(requested).field_for(column) if _requested(column, requested) else None
        if field is not None:
            resolved[column], sources[column] = field, origin
            continue
        field = synonym_field(column.rpartition(".")[2] if column in paths else column)
        if field is None or field in taken:
            continue
        misfit = _misfit_share(field, [value_at(row, column) for row in sample])
        if misfit > MISFIT_SHARE:
            to_attributes.add(column)
            warnings.append(
                f"Column '{column}' looks like {field} by its name, but {misfit:.0%} of its sampled "
                f"values are not a valid {field}: it is kept in attributes."
            )
            continue
        taken.add(field)
        resolved[column], sources[column] = field, "synonym"
    notes = []
    if "ean" not in taken:
        best = max(
            ((_gtin_share([value_at(row, c) for row in sample]), c) for c in candidates if c not in resolved),
            default=(0.0, ""),
            key=lambda pair: pair[0],
        )
        if best[0] >= EAN_BY_VALUES_SHARE:
            resolved[best[1]], sources[best[1]] = "ean", "values"
            to_attributes.discard(best[1])
            notes.append(
                f"Column '{best[1]}' is used as the EAN: no column is named like one, and "
                f"{best[0]:.0%} of its sampled values are valid GTINs."
            )
    mapper_mapping = {**{c: f for c, f in requested.items() if f == IGNORE}, **resolved}
    mapper = ColumnMapper(mapper_mapping, to_attributes=frozenset(to_attributes))
    return MappingPlan(mapper, mapper_mapping, sources, notes, warnings)


def _requested(column: str, requested: dict[str, str]) -> bool:
    local = normalize_header(column.rpartition(":")[2])
    names = {normalize_header(c) for c in requested}
    return column in requested or normalize_header(column) in names or local in names


def _non_blank(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]


def _gtin_share(values: list[Any]) -> float:
    present = [v for v in _non_blank(values) if isinstance(v, str | int)]
    if len(present) < min(MIN_SAMPLED_VALUES, len(values)) or not present:
        return 0.0
    valid = 0
    for value in present:
        try:
            normalize_ean(value)
            valid += 1
        except EanError:
            pass
    return valid / len(present)


def _misfit_share(field: str, values: list[Any]) -> float:
    """The share of the non-blank ``values`` that cannot be ``field``'s (price, stock, image_url)."""
    checks = {
        "price": parse_price,
        "stock": parse_stock,
        "image_url": _check_url,
    }
    check = checks.get(field)
    present = _non_blank(values)
    if check is None or len(present) < MIN_SAMPLED_VALUES:
        return 0.0
    misfits = 0
    for value in present:
        try:
            check(value)
        except (ValueProblem, ValueError, TypeError):
            misfits += 1
    return misfits / len(present)


def _check_url(value: Any) -> None:
    if not isinstance(value, str) or not is_http_url(value.strip()):
        raise ValueError(value)
