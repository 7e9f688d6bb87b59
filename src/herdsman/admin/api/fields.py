"""The stats fields: names, descriptions, and the three ways ``show stat`` and ``show info``
print them (``stats.c``: ``stats_emit_raw_data_field()``, ``..._typed_...``, ``..._json_...``).

A field value is ``(tags, type, value)``: ``tags`` is HAProxy's origin,
nature and scope letters (``MGP`` = metric, gauge, process; see
``stats_emit_field_tags()``), ``type`` one of ``u32 s32 u64 str``. A row is a
dict from field position to value; a position absent from it is an empty
field (``FF_EMPTY``), printed as nothing in CSV and skipped in the typed and
JSON forms.

The field names and descriptions are in ``names.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from herdsman.admin.api.names import INFO_FIELDS, STAT_FIELDS, STATIC_FIELDS

Value = tuple[str, str, int | str]
Row = dict[int, Value]

_ORIGIN = {"M": "Metric", "S": "Status", "K": "Key", "C": "Config", "P": "Product"}
_NATURE = {
    "G": "Gauge", "L": "Limit", "m": "Min", "M": "Max", "R": "Rate", "C": "Counter",
    "D": "Duration", "A": "Age", "T": "Time", "N": "Name", "O": "Output", "a": "Avg",
}  # fmt: skip
_SCOPE = {"P": "Process", "S": "Service", "s": "System", "C": "Cluster"}


def u32(tags: str, value: int) -> Value:
    return (tags, "u32", value & 0xFFFFFFFF)


def s32(tags: str, value: int) -> Value:
    return (tags, "s32", value)


def u64(tags: str, value: int) -> Value:
    return (tags, "u64", value)


def text(tags: str, value: str) -> Value:
    return (tags, "str", value)


def csv_escape(value: str) -> str:
    """``csv_enc_append()``: quoted when it holds a comma, a quote, CR or LF."""
    if "," in value or '"' in value or "\r" in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_header() -> str:
    cols = [name + "," for name, _ in STAT_FIELDS]
    cols.insert(STATIC_FIELDS, "-,")
    return "# " + "".join(cols) + "\n"


_BLANK = [""] * len(STAT_FIELDS)


def csv_line(row: Row) -> str:
    """One CSV line; only the fields present are visited (the view's hot loop)."""
    cols = _BLANK[:]
    for pos, (_, _, v) in row.items():
        if type(v) is str:
            if "," in v or '"' in v or "\r" in v or "\n" in v:
                v = csv_escape(v)
            cols[pos] = v
        else:
            cols[pos] = str(v)
    cols.insert(STATIC_FIELDS, "-")
    return ",".join(cols) + ",\n"


_KIND = {0: "F", 1: "B", 2: "S", 3: "L"}
_OBJ = {0: "Frontend", 1: "Backend", 2: "Server", 3: "Listener"}
TYPE_POS, IID_POS, SID_POS = 32, 27, 28


def _ids(row: Row) -> tuple[int, int, int]:
    return int(row[TYPE_POS][2]), int(row[IID_POS][2]), int(row[SID_POS][2])


def typed_lines(row: Row, desc: bool) -> str:
    """``stats_dump_fields_typed()``: ``F.iid.sid.pos.name.1:tags:type:value``."""
    kind, iid, sid = _ids(row)
    out = []
    for pos in sorted(row):
        tags, typ, value = row[pos]
        name, description = STAT_FIELDS[pos]
        line = f"{_KIND[kind]}.{iid}.{sid}.{pos}.{name}.1:{tags}:{typ}:{value}"
        out.append(line + (f':"{description}"' if desc else "") + "\n")
    return "".join(out)


def _json_value(value: Value) -> str:
    tags, typ, v = value
    tag = (
        f'"tags":{{"origin":"{_ORIGIN[tags[0]]}","nature":"{_NATURE[tags[1]]}",'
        f'"scope":"{_SCOPE[tags[2]]}"}}'
    )
    shown = f'"{v}"' if typ == "str" else str(v)
    return f'{tag},"value":{{"type":"{typ}","value":{shown}}}'


def json_row(row: Row) -> str:
    """``stats_dump_fields_json()`` for one object: an array of its fields."""
    kind, iid, sid = _ids(row)
    parts = []
    for pos in sorted(row):
        name = STAT_FIELDS[pos][0]
        parts.append(
            f'{{"objType":"{_OBJ[kind]}","proxyId":{iid},"id":{sid},'
            f'"field":{{"pos":{pos},"name":"{name}"}},"processNum":1,' + _json_value(row[pos]) + "}"
        )
    return "[" + ",".join(parts) + "]"


def info_text(values: dict[int, Value], desc: bool) -> str:
    """``stats_dump_info_fields()``: ``Name: value``."""
    out = []
    for pos, name, description in INFO_FIELDS:
        value = values.get(pos)
        if value is None:
            continue
        out.append(f"{name}: {value[2]}" + (f':"{description}"' if desc else "") + "\n")
    return "".join(out)


def info_typed(values: dict[int, Value], desc: bool) -> str:
    out = []
    for pos, name, description in INFO_FIELDS:
        value = values.get(pos)
        if value is None:
            continue
        tags, typ, v = value
        line = f"{pos}.{name}.1:{tags}:{typ}:{v}"
        out.append(line + (f':"{description}"' if desc else "") + "\n")
    return "".join(out)


def info_json(values: dict[int, Value]) -> str:
    parts = [
        f'{{"field":{{"pos":{pos},"name":"{name}"}},"processNum":1,' + _json_value(value) + "}"
        for pos, name, _ in INFO_FIELDS
        if (value := values.get(pos)) is not None
    ]
    return "[" + ",".join(parts) + "]\n"


def json_rows(rows: Iterable[Row]) -> str:
    return "[" + ",".join(json_row(r) for r in rows) + "]\n"
