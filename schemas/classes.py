"""The table definitions as classes: each rule is written once, each output generated here.

:data:`schemas.fields.FIELDS` and :data:`schemas.resources.RESOURCES` hold the
definitions as plain dictionaries (easy to read and to review); this module turns them
into :class:`Field`, :class:`Resource` and :class:`Package` objects, checking them on the
way (a primary key or a foreign key naming a field or a resource that does not exist
raises :class:`DefinitionError` at import time), and generates from them everything
that needs a table's columns:

* the Arrow schema of a curated or computed Parquet file (:meth:`Resource.to_pyarrow`);
* the pandera schema of its checks (:meth:`Resource.to_pandera`, rules in :mod:`schemas.checks`);
* its frictionless Table Schema and Data Resource descriptors (:meth:`Resource.to_frictionless`,
  :meth:`Resource.to_frictionless_resource`);
* its DuckDB ``CREATE TABLE`` and ``COMMENT ON`` statements (:meth:`Resource.to_sql`,
  :meth:`Resource.to_sql_comments`);
* its section of the data dictionary (:meth:`Resource.to_markdown`).

The design follows ``pudl/metadata/classes.py`` (Catalyst Cooperative's PUDL), with
frozen dataclasses rather than pydantic models.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa


class DefinitionError(ValueError):
    """A table definition that contradicts itself or another one (raised at import time)."""


@dataclass(frozen=True)
class FieldType:
    """How one Table Schema type is held by each tool."""

    arrow: pa.DataType
    pandas: str  # the nullable pandas dtype of validated frames
    sql: str  # DuckDB
    label_fr: str  # in the data dictionary


#: Table Schema type -> its representations. Nullable pandas integers and booleans, so
#: that a null does not change a column's type.
FIELD_TYPES: dict[str, FieldType] = {
    "string": FieldType(pa.string(), "str", "VARCHAR", "texte"),
    "integer": FieldType(pa.int64(), "Int64", "BIGINT", "entier"),
    "number": FieldType(pa.float64(), "float64", "DOUBLE", "nombre"),
    "boolean": FieldType(pa.bool_(), "boolean", "BOOLEAN", "booléen"),
}
#: Constraints a field may carry (Table Schema names), in the order descriptors list them.
CONSTRAINT_KEYS = ("enum", "minimum", "maximum", "pattern", "maxLength")
_FIELD_KEYS = {"type", "title", "title_ar", "description", "description_ar", "unit", "format", "constraints"}
_OVERRIDE_KEYS = {"title", "title_ar", "description", "description_ar", "unit", "constraints"}
_RESOURCE_KEYS = {
    "title",
    "title_ar",
    "description",
    "description_ar",
    "fields",
    "required",
    "primary_key",
    "foreign_keys",
    "field_overrides",
}

#: Cell text that stands for a missing value in the published CSV files.
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
MEDIATYPES = {"csv": "text/csv", "json": "application/json"}


# --- text helpers (SQL literals, Markdown cells) -------------------------------------------


def sql_literal(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def comment_text(title: str, description: str) -> str:
    """``Titre : description``, or the description alone when it already opens with the title."""
    return description if description.startswith(title) else f"{title} : {description}"


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return (
        str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
    )


def md_code(text: str) -> str:
    return "`" + str(text).replace("|", "\\|") + "`"


def _number(value: float) -> str:
    return f"{value:g}"


def constraints_text(constraints: Mapping[str, Any]) -> str:
    """Constraints in words: ``≥ 0``, ``≤ 100``, allowed values, pattern, length."""
    parts = []
    if "minimum" in constraints:
        parts.append(f"≥ {_number(constraints['minimum'])}")
    if "maximum" in constraints:
        parts.append(f"≤ {_number(constraints['maximum'])}")
    if "enum" in constraints:
        parts.append("valeurs : " + ", ".join(md_code(v) for v in constraints["enum"]))
    if "pattern" in constraints:
        parts.append("motif : " + md_code(constraints["pattern"]))
    if "maxLength" in constraints:
        parts.append(f"{constraints['maxLength']} caractères au plus")
    return " ; ".join(parts)


# --- fields ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One column: its type, titles, descriptions, unit, constraints and nullability.

    A field of the field dictionary is nullable; a resource's copy of it
    (:attr:`Resource.fields`) has the resource's overrides and nullability applied.
    """

    name: str
    type: str
    title: str
    description: str
    title_ar: str | None = None
    description_ar: str | None = None
    unit: str | None = None
    format: str | None = None
    constraints: dict = dataclasses.field(default_factory=dict)
    nullable: bool = True

    @classmethod
    def from_dict(cls, name: str, entry: Mapping[str, Any]) -> Field:
        """The field ``name`` of the field dictionary; :class:`DefinitionError` when it is malformed."""
        unknown = set(entry) - _FIELD_KEYS
        missing = {"type", "title", "description"} - set(entry)
        if unknown or missing:
            raise DefinitionError(f"field {name!r}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
        if entry["type"] not in FIELD_TYPES:
            raise DefinitionError(f"field {name!r}: type {entry['type']!r} is not one of {sorted(FIELD_TYPES)}")
        field = cls(name=name, **copy.deepcopy(dict(entry)))
        field.check_constraints()
        return field

    def check_constraints(self) -> None:
        unknown = set(self.constraints) - set(CONSTRAINT_KEYS)
        if unknown:
            raise DefinitionError(f"field {self.name!r}: unknown constraints {sorted(unknown)}")

    def with_changes(self, **changes: Any) -> Field:
        """A copy with ``changes`` applied (an override replaces a key whole)."""
        field = dataclasses.replace(self, **copy.deepcopy(changes))
        field.check_constraints()
        return field

    @property
    def field_type(self) -> FieldType:
        return FIELD_TYPES[self.type]

    def to_dict(self) -> dict:
        """The field as a dictionary (``name``, ``type``, ``title``…, ``constraints``,
        ``nullable``; an unset optional key is left out), as :func:`schemas.table_fields` gives it."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "title": self.title}
        for key in ("title_ar", "description", "description_ar", "unit", "format"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["constraints"] = copy.deepcopy(self.constraints)
        out["nullable"] = self.nullable
        return out

    def to_pyarrow(self) -> pa.Field:
        """Arrow field, with the French title and description as metadata."""
        return pa.field(
            self.name,
            self.field_type.arrow,
            nullable=self.nullable,
            metadata={"title": self.title, "description": self.description},
        )

    def to_pandas_dtype(self) -> str:
        return self.field_type.pandas

    def to_sql(self) -> str:
        """The column's line of a DuckDB ``CREATE TABLE``: ``"name" TYPE[ NOT NULL]``."""
        return f'"{self.name}" {self.field_type.sql}{"" if self.nullable else " NOT NULL"}'

    def to_sql_comment(self, table: str) -> str:
        """``COMMENT ON COLUMN`` with the French title, description and unit."""
        text = comment_text(self.title, self.description)
        if self.unit and f"({self.unit})" not in self.title:
            text += f" Unité : {self.unit}."
        return f'COMMENT ON COLUMN "{table}"."{self.name}" IS {sql_literal(text)}'

    def to_pandera(self, checks: list | None = None):
        """A pandera column of this field's dtype and nullability, with ``checks``."""
        import pandera.pandas as pdr

        from schemas.pandera_dtypes import pandera_dtype

        return pdr.Column(
            pandera_dtype(self.to_pandas_dtype()),
            checks=list(checks or []),
            nullable=self.nullable,
            title=self.title,
            description=self.description,
        )

    def to_frictionless(self, *, unique: bool = False) -> dict:
        """Table Schema field descriptor; ``unique`` when the field alone is the primary key."""
        out = {"name": self.name, "type": self.type}
        if self.format:
            out["format"] = self.format
        out["title"] = self.title
        if self.title_ar:
            out["title_ar"] = self.title_ar
        out["description"] = self.description
        if self.description_ar:
            out["description_ar"] = self.description_ar
        if self.unit:
            out["unit"] = self.unit
        constraints: dict[str, Any] = {}
        if not self.nullable:
            constraints["required"] = True
        if unique:
            constraints["unique"] = True
        for key in CONSTRAINT_KEYS:
            if key in self.constraints:
                constraints[key] = copy.deepcopy(self.constraints[key])
        if constraints:
            out["constraints"] = constraints
        return out

    def to_markdown_row(self) -> str:
        """The field's row of the data dictionary's column table."""
        cells = [
            md_code(self.name),
            self.field_type.label_fr,
            "non" if self.nullable else "oui",
            md_cell(self.unit or ""),
            constraints_text(self.constraints),
            md_cell(self.title),
            md_cell(self.description),
        ]
        return "| " + " | ".join(cells) + " |"


# --- resources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForeignKey:
    """Fields of a resource that must name a row of another resource."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> ForeignKey:
        ref = entry["reference"]
        return cls(tuple(entry["fields"]), ref["resource"], tuple(ref["fields"]))

    def to_frictionless(self) -> dict:
        """``{"fields": [...], "reference": {"resource": ..., "fields": [...]}}``."""
        return {
            "fields": list(self.fields),
            "reference": {"resource": self.resource, "fields": list(self.reference_fields)},
        }

    def to_markdown(self) -> str:
        fields = ", ".join(md_code(f) for f in self.fields)
        target = ", ".join(md_code(f) for f in self.reference_fields)
        return f"({fields}) → [`{self.resource}`](#{self.resource}) ({target})"


@dataclass(frozen=True)
class Resource:
    """One table: its fields (resolved), keys, titles and descriptions."""

    name: str
    title: str
    title_ar: str
    description: str
    description_ar: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    computed: bool = False

    @classmethod
    def from_dict(
        cls, name: str, entry: Mapping[str, Any], field_dictionary: Mapping[str, Field], computed: bool = False
    ) -> Resource:
        """The resource ``name``, its fields taken from ``field_dictionary`` with the
        resource's overrides and nullability; :class:`DefinitionError` when a name it
        uses (field, key, override) is not one of its fields."""
        unknown = set(entry) - _RESOURCE_KEYS
        if unknown:
            raise DefinitionError(f"resource {name!r}: unknown keys {sorted(unknown)}")
        names = list(entry["fields"])
        _names_exist(name, "fields", names, field_dictionary, "the field dictionary (schemas/fields.py)")
        if len(set(names)) != len(names):
            raise DefinitionError(f"resource {name!r}: a field is listed twice in {names}")
        for what in ("primary_key", "required"):
            _names_exist(name, what, entry[what], names, "its fields")
        if not entry["primary_key"]:
            raise DefinitionError(f"resource {name!r}: no primary key")
        overrides = entry.get("field_overrides", {})
        _names_exist(name, "field_overrides", overrides, names, "its fields")
        required = set(entry["required"]) | set(entry["primary_key"])
        fields = []
        for field_name in names:
            override = overrides.get(field_name, {})
            if set(override) - _OVERRIDE_KEYS:
                raise DefinitionError(
                    f"resource {name!r}: override of {field_name!r} has keys {sorted(set(override) - _OVERRIDE_KEYS)}"
                )
            fields.append(field_dictionary[field_name].with_changes(**override, nullable=field_name not in required))
        foreign_keys = tuple(ForeignKey.from_dict(fk) for fk in entry["foreign_keys"])
        for fk in foreign_keys:
            _names_exist(name, "foreign key", fk.fields, names, "its fields")
        return cls(
            name=name,
            title=entry["title"],
            title_ar=entry["title_ar"],
            description=entry["description"],
            description_ar=entry["description_ar"],
            fields=tuple(fields),
            primary_key=tuple(entry["primary_key"]),
            foreign_keys=foreign_keys,
            computed=computed,
        )

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def get_field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"resource {self.name!r} has no field {name!r}")

    # --- Arrow and pandas

    def to_pyarrow(self) -> pa.Schema:
        """Explicit Arrow schema, with the French titles as metadata."""
        return pa.schema(
            [f.to_pyarrow() for f in self.fields],
            metadata={"table": self.name, "title": self.title, "description": self.description},
        )

    def empty_frame(self):
        """An empty pandas DataFrame with the table's columns and dtypes (a copy: the
        caller may change it)."""
        return self._empty_frame.copy()

    @functools.cached_property
    def _empty_frame(self):
        return self.to_pyarrow().empty_table().to_pandas()

    def to_pandera(self):
        """The pandera ``DataFrameSchema`` of the table's checks (see :mod:`schemas.checks`)."""
        from schemas.checks import resource_schema

        return resource_schema(self)

    # --- DuckDB

    def to_sql(self) -> str:
        """DuckDB ``CREATE TABLE``: column types, ``NOT NULL``, primary key."""
        columns = [f"    {f.to_sql()}" for f in self.fields]
        key = ", ".join(f'"{k}"' for k in self.primary_key)
        return f'CREATE TABLE "{self.name}" (\n' + ",\n".join([*columns, f"    PRIMARY KEY ({key})"]) + "\n);"

    def to_sql_comments(self, kind: str = "TABLE") -> list[str]:
        """``COMMENT ON`` statements giving the table (or view: ``kind="VIEW"``) and its
        columns their French titles and descriptions."""
        text = sql_literal(comment_text(self.title, self.description))
        return [f'COMMENT ON {kind} "{self.name}" IS {text}', *(f.to_sql_comment(self.name) for f in self.fields)]

    # --- frictionless

    def to_frictionless(self) -> dict:
        """Frictionless Table Schema; foreign keys name other resources of the package by table name."""
        single_key = self.primary_key[0] if len(self.primary_key) == 1 else None
        return {
            "fields": [f.to_frictionless(unique=f.name == single_key) for f in self.fields],
            "primaryKey": list(self.primary_key),
            "foreignKeys": [fk.to_frictionless() for fk in self.foreign_keys],
            "missingValues": list(MISSING_VALUES),
        }

    def to_frictionless_resource(self, path: str, format: str) -> dict:
        """Data Resource descriptor of the table published at ``path`` (relative to the package).

        ``format="csv"`` gives the tabular resource, named after the table, that
        frictionless validates. ``format="json"`` gives the same rows as a JSON array of
        objects, named ``<table>-json``, with the same schema for its readers.
        """
        if format not in MEDIATYPES:
            raise ValueError(f"unsupported format {format!r}: expected one of {sorted(MEDIATYPES)}")
        if format == "csv":
            out = {"name": self.name, "type": "table"}
            title, description = self.title, self.description
            title_ar, description_ar = self.title_ar, self.description_ar
        else:
            out = {"name": json_resource_name(self.name), "type": "json"}
            title, title_ar = f"{self.title} (JSON)", f"{self.title_ar} (JSON)"
            description = (
                f"{self.description} Mêmes enregistrements que la ressource « {self.name} », "
                "au format JSON : un tableau d'objets dont les clés sont les noms des champs, "
                "null pour une valeur manquante."
            )
            description_ar = (
                f"{self.description_ar} السجلات نفسها الواردة في المورد «{self.name}»، "
                "بصيغة JSON: مصفوفة من الكائنات مفاتيحها أسماء الحقول، "
                "وnull للقيمة الناقصة."
            )
        out.update(
            {
                "path": path,
                "format": format,
                "mediatype": MEDIATYPES[format],
                "encoding": "utf-8",
                "title": title,
                "title_ar": title_ar,
                "description": description,
                "description_ar": description_ar,
            }
        )
        if format == "csv":
            out["dialect"] = dict(CSV_DIALECT)
        out["schema"] = self.to_frictionless()
        return out

    # --- the data dictionary

    def to_markdown(self, files: str) -> str:
        """The table's section of the data dictionary; ``files`` is the line naming its file(s)."""
        lines = [
            f'<a id="{self.name}"></a>',
            f"### `{self.name}` : {self.title}",
            "",
            self.description,
            "",
            "- Clé primaire : " + ", ".join(md_code(k) for k in self.primary_key),
        ]
        if self.foreign_keys:
            lines.append("- Clés étrangères : " + " ; ".join(fk.to_markdown() for fk in self.foreign_keys))
        lines += [
            files,
            "",
            "| Colonne | Type | Obligatoire | Unité | Contraintes | Titre | Description |",
            "|---|---|---|---|---|---|---|",
            *(f.to_markdown_row() for f in self.fields),
        ]
        return "\n".join(lines) + "\n"


def json_resource_name(table: str) -> str:
    """Name of the JSON copy of ``table`` in a data package (the CSV one is named ``table``)."""
    return f"{table}-json"


def _names_exist(resource: str, what: str, names, known, where: str) -> None:
    absent = [n for n in names if n not in known]
    if absent:
        raise DefinitionError(f"resource {resource!r}: {what} names {absent}, which are not in {where}")


# --- the package -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Package:
    """Every table: the curated ones (in dependency order), then the computed ones."""

    fields: dict[str, Field]
    resources: dict[str, Resource]

    @classmethod
    def from_dicts(
        cls, fields: Mapping[str, Mapping], resources: Mapping[str, Mapping], computed: Mapping[str, Mapping]
    ) -> Package:
        """Build and check the package; :class:`DefinitionError` names the first contradiction."""
        field_dictionary = {name: Field.from_dict(name, entry) for name, entry in fields.items()}
        clash = set(resources) & set(computed)
        if clash:
            raise DefinitionError(f"resources {sorted(clash)} are defined both as curated and as computed")
        built = {name: Resource.from_dict(name, entry, field_dictionary) for name, entry in resources.items()}
        built |= {name: Resource.from_dict(name, entry, field_dictionary, True) for name, entry in computed.items()}
        package = cls(field_dictionary, built)
        package.check_foreign_keys()
        return package

    def check_foreign_keys(self) -> None:
        """Each foreign key names a resource of the package, fields of it, as many as its own."""
        for resource in self.resources.values():
            for fk in resource.foreign_keys:
                where = f"resource {resource.name!r}: foreign key {list(fk.fields)}"
                if fk.resource not in self.resources:
                    raise DefinitionError(f"{where} refers to {fk.resource!r}, which is not a resource")
                target = self.resources[fk.resource]
                absent = [f for f in fk.reference_fields if f not in target.field_names]
                if absent:
                    raise DefinitionError(f"{where} refers to {absent}, which are not fields of {fk.resource!r}")
                if len(fk.reference_fields) != len(fk.fields):
                    raise DefinitionError(f"{where} refers to {list(fk.reference_fields)}: not as many fields")

    def get_resource(self, name: str) -> Resource:
        try:
            return self.resources[name]
        except KeyError:
            raise KeyError(f"no table {name!r}: expected one of {list(self.resources)}") from None

    @property
    def tables(self) -> list[str]:
        """Curated tables, in dependency order."""
        return [n for n, r in self.resources.items() if not r.computed]

    @property
    def computed_tables(self) -> list[str]:
        return [n for n, r in self.resources.items() if r.computed]
