"""The Sparkplug B payload schema, built in code: the ``Payload`` protobuf message class.

It follows the payload definition of the Eclipse Sparkplug Specification v3.0 (the payload chapter,
"Sparkplug B" protobuf): every message type, field name, field number and wire type as the
specification gives them, proto2 semantics (so ``HasField`` tells a field sent as zero from one not
sent). It is written here as a ``FileDescriptorProto`` in Python, not read from a ``.proto`` file
or a compiled descriptor set, because the repository carries no schema fetched from elsewhere and
nothing built from one: this module is the schema. The tests check it, field by field, against
the descriptor of an independent implementation (pysparkplug) and decode that implementation's
payloads with it.

The descriptor lives in a private pool, so another library's Sparkplug classes in the same
process cannot clash with ours. Protobuf skips fields it does not know; the nested types
(metadata, property sets, data sets, templates) are declared all the same, so that a metric
carrying them is parsed as the specification says rather than guessed at.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "parktwin.sparkplug"
PAYLOAD = f"{PACKAGE}.Payload"

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_SCALARS = {
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}
_MAX_FIELD_NUMBER = 2**29  # exclusive end of an extension range "N to max"

# One field: (name, number, type, label, oneof). The type is a scalar's name or a message's
# path under Payload ("Metric", "DataSet.Row"); oneof is the index of the message's oneof.
Field = tuple[str, int, str, int, int | None]


def _value_oneof(first: int, names: list[tuple[str, str]]) -> list[Field]:
    """The fields of a ``oneof value``, numbered from ``first`` in the given order."""
    return [(name, first + i, kind, _OPTIONAL, 0) for i, (name, kind) in enumerate(names)]


_SCALAR_VALUES = [
    ("int_value", "uint32"),
    ("long_value", "uint64"),
    ("float_value", "float"),
    ("double_value", "double"),
    ("boolean_value", "bool"),
    ("string_value", "string"),
]


def _message(
    path: str, fields: list[Field], extensions_from: int | None = None, oneof: bool = False
) -> tuple[str, list[Field], int | None, bool]:
    return path, fields, extensions_from, oneof


# Sparkplug 3.0, payload chapter: Payload and its nested types, in the specification's words.
_MESSAGES = [
    _message(
        "",  # Payload itself
        [
            ("timestamp", 1, "uint64", _OPTIONAL, None),
            ("metrics", 2, "Metric", _REPEATED, None),
            ("seq", 3, "uint64", _OPTIONAL, None),
            ("uuid", 4, "string", _OPTIONAL, None),
            ("body", 5, "bytes", _OPTIONAL, None),
        ],
        extensions_from=6,
    ),
    _message(
        "Template",
        [
            ("version", 1, "string", _OPTIONAL, None),
            ("metrics", 2, "Metric", _REPEATED, None),
            ("parameters", 3, "Template.Parameter", _REPEATED, None),
            ("template_ref", 4, "string", _OPTIONAL, None),
            ("is_definition", 5, "bool", _OPTIONAL, None),
        ],
        extensions_from=6,
    ),
    _message(
        "Template.Parameter",
        [
            ("name", 1, "string", _OPTIONAL, None),
            ("type", 2, "uint32", _OPTIONAL, None),
            *_value_oneof(
                3, [*_SCALAR_VALUES, ("extension_value", "Template.Parameter.Extension")]
            ),
        ],
        oneof=True,
    ),
    _message("Template.Parameter.Extension", [], extensions_from=1),
    _message(
        "DataSet",
        [
            ("num_of_columns", 1, "uint64", _OPTIONAL, None),
            ("columns", 2, "string", _REPEATED, None),
            ("types", 3, "uint32", _REPEATED, None),
            ("rows", 4, "DataSet.Row", _REPEATED, None),
        ],
        extensions_from=5,
    ),
    _message(
        "DataSet.DataSetValue",
        _value_oneof(1, [*_SCALAR_VALUES, ("extension_value", "DataSet.DataSetValue.Extension")]),
        oneof=True,
    ),
    _message("DataSet.DataSetValue.Extension", [], extensions_from=1),
    _message(
        "DataSet.Row",
        [("elements", 1, "DataSet.DataSetValue", _REPEATED, None)],
        extensions_from=2,
    ),
    _message(
        "PropertyValue",
        [
            ("type", 1, "uint32", _OPTIONAL, None),
            ("is_null", 2, "bool", _OPTIONAL, None),
            *_value_oneof(
                3,
                [
                    *_SCALAR_VALUES,
                    ("propertyset_value", "PropertySet"),
                    ("propertysets_value", "PropertySetList"),
                    ("extension_value", "PropertyValue.Extension"),
                ],
            ),
        ],
        oneof=True,
    ),
    _message("PropertyValue.Extension", [], extensions_from=1),
    _message(
        "PropertySet",
        [
            ("keys", 1, "string", _REPEATED, None),
            ("values", 2, "PropertyValue", _REPEATED, None),
        ],
        extensions_from=3,
    ),
    _message(
        "PropertySetList",
        [("propertyset", 1, "PropertySet", _REPEATED, None)],
        extensions_from=2,
    ),
    _message(
        "MetaData",
        [
            ("is_multi_part", 1, "bool", _OPTIONAL, None),
            ("content_type", 2, "string", _OPTIONAL, None),
            ("size", 3, "uint64", _OPTIONAL, None),
            ("seq", 4, "uint64", _OPTIONAL, None),
            ("file_name", 5, "string", _OPTIONAL, None),
            ("file_type", 6, "string", _OPTIONAL, None),
            ("md5", 7, "string", _OPTIONAL, None),
            ("description", 8, "string", _OPTIONAL, None),
        ],
        extensions_from=9,
    ),
    _message(
        "Metric",
        [
            ("name", 1, "string", _OPTIONAL, None),
            ("alias", 2, "uint64", _OPTIONAL, None),
            ("timestamp", 3, "uint64", _OPTIONAL, None),
            ("datatype", 4, "uint32", _OPTIONAL, None),
            ("is_historical", 5, "bool", _OPTIONAL, None),
            ("is_transient", 6, "bool", _OPTIONAL, None),
            ("is_null", 7, "bool", _OPTIONAL, None),
            ("metadata", 8, "MetaData", _OPTIONAL, None),
            ("properties", 9, "PropertySet", _OPTIONAL, None),
            *_value_oneof(
                10,
                [
                    *_SCALAR_VALUES,
                    ("bytes_value", "bytes"),
                    ("dataset_value", "DataSet"),
                    ("template_value", "Template"),
                    ("extension_value", "Metric.Extension"),
                ],
            ),
        ],
        oneof=True,
    ),
    _message("Metric.Extension", [], extensions_from=1),
]


def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The schema as a protobuf file descriptor (proto2, package ``parktwin.sparkplug``)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="parktwin/sparkplug_schema.py", package=PACKAGE, syntax="proto2"
    )
    made: dict[str, descriptor_pb2.DescriptorProto] = {}
    for path, fields, extensions_from, oneof in _MESSAGES:
        if not path:
            message = file.message_type.add(name="Payload")
        else:
            parent, _, name = path.rpartition(".")
            message = made[parent].nested_type.add(name=name)
        made[path] = message
        if oneof:
            message.oneof_decl.add(name="value")
        if extensions_from is not None:
            message.extension_range.add(start=extensions_from, end=_MAX_FIELD_NUMBER)
        for name, number, kind, label, oneof_index in fields:
            field = message.field.add(name=name, number=number, label=label)
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".{PAYLOAD}.{kind}"
            if oneof_index is not None:
                field.oneof_index = oneof_index
    return file


@cache
def payload_class() -> Any:
    """The message class of ``Payload``, from this schema in a descriptor pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(PAYLOAD))
