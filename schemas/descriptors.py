"""Frictionless descriptors generated from the table definitions.

Everything here is derived from :func:`schemas.table_fields` and
:data:`schemas.ALL_RESOURCES`: a Table Schema per table and a Data Resource
descriptor per published file. No column is listed here.

Conventions of the published files, which the descriptors declare:

* CSV: UTF-8 without BOM, comma-separated, ``"``-quoted when needed, one header
  row, ``\\n`` line endings; an empty cell is a missing value (``missingValues``
  is ``[""]``).
* JSON: an array of objects keyed by field name, ``null`` for a missing value.

Titles and descriptions are in French (``title``, ``description``) with their Arabic
versions beside them as extra properties (``title_ar``, ``description_ar``), on each
field and each resource: frictionless keeps properties it does not know, and
data.gov.ma is bilingual.
"""

from __future__ import annotations

import copy

from schemas import ALL_RESOURCES, table_fields

#: Cell text that stands for a missing value in the CSV files.
MISSING_VALUES: list[str] = [""]

#: The CSV dialect the CSV files are written with (Table Dialect / CSVDDF keys).
CSV_DIALECT: dict = {
    "delimiter": ",",
    "lineTerminator": "\n",
    "quoteChar": '"',
    "doubleQuote": True,
    "skipInitialSpace": False,
    "header": True,
}

_CONSTRAINT_KEYS = ("enum", "minimum", "maximum", "pattern", "maxLength")
_MEDIATYPES = {"csv": "text/csv", "json": "application/json"}


def field_descriptor(field: dict, *, unique: bool = False) -> dict:
    """Table Schema field descriptor of one resolved field (see :func:`schemas.table_fields`).

    Args:
        field: a resolved field, with ``name``, ``type``, ``title``, ``description``,
            ``nullable``, ``constraints`` and optionally ``title_ar``,
            ``description_ar``, ``format`` and ``unit``.
        unique: whether the field alone is the table's primary key.
    """
    out = {"name": field["name"], "type": field["type"]}
    if field.get("format"):
        out["format"] = field["format"]
    out["title"] = field["title"]
    if field.get("title_ar"):
        out["title_ar"] = field["title_ar"]
    out["description"] = field["description"]
    if field.get("description_ar"):
        out["description_ar"] = field["description_ar"]
    if field.get("unit"):
        out["unit"] = field["unit"]
    constraints = {}
    if not field["nullable"]:
        constraints["required"] = True
    if unique:
        constraints["unique"] = True
    for key in _CONSTRAINT_KEYS:
        if key in field["constraints"]:
            constraints[key] = copy.deepcopy(field["constraints"][key])
    if constraints:
        out["constraints"] = constraints
    return out


def table_schema(table: str) -> dict:
    """Frictionless Table Schema of a curated or computed table.

    Foreign keys point at other resources of the same data package by table name
    (the CSV resources are named after their tables).
    """
    resource = ALL_RESOURCES[table]
    primary_key = list(resource["primary_key"])
    single_key = primary_key[0] if len(primary_key) == 1 else None
    return {
        "fields": [field_descriptor(f, unique=f["name"] == single_key) for f in table_fields(table)],
        "primaryKey": primary_key,
        "foreignKeys": [
            {
                "fields": list(fk["fields"]),
                "reference": {"resource": fk["reference"]["resource"], "fields": list(fk["reference"]["fields"])},
            }
            for fk in resource["foreign_keys"]
        ],
        "missingValues": list(MISSING_VALUES),
    }


def json_resource_name(table: str) -> str:
    """Name of the JSON copy of ``table`` in a data package (the CSV one is named ``table``)."""
    return f"{table}-json"


def resource_descriptor(table: str, path: str, format: str) -> dict:
    """Data Resource descriptor of ``table`` published at ``path`` (relative to the package).

    ``format="csv"`` gives the tabular resource, named after the table, that
    frictionless validates (types, constraints, keys). ``format="json"`` gives the
    same rows as a JSON array of objects, named ``<table>-json``; it carries the same
    schema for its readers, but frictionless treats a JSON file as a non-tabular
    resource and only checks that it parses.
    """
    if format not in _MEDIATYPES:
        raise ValueError(f"unsupported format {format!r}: expected one of {sorted(_MEDIATYPES)}")
    resource = ALL_RESOURCES[table]
    if format == "csv":
        out = {"name": table, "type": "table"}
        title = resource["title"]
        description = resource["description"]
        title_ar = resource["title_ar"]
        description_ar = resource["description_ar"]
    else:
        out = {"name": json_resource_name(table), "type": "json"}
        title = f"{resource['title']} (JSON)"
        description = (
            f"{resource['description']} Mêmes enregistrements que la ressource « {table} », "
            "au format JSON : un tableau d'objets dont les clés sont les noms des champs, "
            "null pour une valeur manquante."
        )
        title_ar = f"{resource['title_ar']} (JSON)"
        description_ar = (
            f"{resource['description_ar']} السجلات نفسها الواردة في المورد «{table}»، "
            "بصيغة JSON: مصفوفة من الكائنات مفاتيحها أسماء الحقول، "
            "وnull للقيمة الناقصة."
        )
    out.update(
        {
            "path": path,
            "format": format,
            "mediatype": _MEDIATYPES[format],
            "encoding": "utf-8",
            "title": title,
            "title_ar": title_ar,
            "description": description,
            "description_ar": description_ar,
        }
    )
    if format == "csv":
        out["dialect"] = dict(CSV_DIALECT)
    out["schema"] = table_schema(table)
    return out
