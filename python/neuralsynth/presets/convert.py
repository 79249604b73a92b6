"""Presets as readable JSON, and the state chunks of our JUCE plugins.

JSON of a program (``.fxp``)::

    {"type": "vst2-program", "format": "FxCk", "name": "Lead", "plugin_id": "DNek",
     "plugin_version": 65792, "fxp_version": 1,
     "params": [{"index": 0, "name": "Cutoff", "value": 0.25, "real": 25.0, "unit": "%", "display": "25.0"}]}

``value`` is the normalized value stored in the file; ``name``, ``unit``, ``real`` and
``display`` appear when parameter descriptions are given (see :func:`dawdreamer_descriptions`).
An ``FPCh`` program has ``"num_params"`` and ``"chunk"`` instead of ``"params"``: for our JUCE
plugins the chunk is decoded (``{"encoding": "juce-xml", "root": ..., "attributes": {...},
"params": {"input_gain": -9.6, ...}}``, real parameter values by parameter id), any other
chunk is ``{"encoding": "base64", "data": ...}``. A bank (``.fxb``) is ``{"type": "vst2-bank",
"format": "FxBk", "programs": [...]}`` or ``"format": "FBCh"`` with a ``"chunk"``. An optional
``"layout"`` object keeps the few bytes the readable fields do not (a byteSize of 0, bytes after
the NUL of a name, a bank's reserved area) so that file -> JSON -> file is byte-exact.

JUCE chunks are ``copyXmlToBinary`` data: ``b"VC2!"``, a little-endian uint32 length, the XML
text and a NUL. The XML is an ``AudioProcessorValueTreeState`` state: a root element (with
attributes of its own) holding ``<PARAM id="..." value="..."/>`` children with real
(denormalized) values. We write XML the way JUCE does (single line, JUCE's escaping, numbers as
the shortest text that reads back to the same double), so a decoded chunk re-encodes to the same
bytes; when it would not, the JSON also carries the original bytes (``raw_base64``) and they
are used for as long as the readable fields are unchanged.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..plugins.juce_state import binary_to_xml, xml_to_binary
from .fxp import Bank, PresetError, Program, fourcc, parse_plugin_id

__all__ = [
    "JuceState",
    "decode_juce_chunk",
    "encode_juce_chunk",
    "program_to_json",
    "program_from_json",
    "bank_to_json",
    "bank_from_json",
    "preset_to_json",
    "preset_from_json",
    "normalize_descriptions",
    "dawdreamer_descriptions",
]

XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>'
PROGRAM_TYPE = "vst2-program"
BANK_TYPE = "vst2-bank"


# --------------------------------------------------------------------------- JUCE state chunks


@dataclass
class JuceState:
    """A JUCE ``AudioProcessorValueTreeState`` state: root tag, its attributes, parameters by id.

    ``extra`` holds the root's other child elements as XML text, in order, after the PARAMs.
    """

    root: str
    attributes: dict[str, str] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)


def decode_juce_chunk(chunk: bytes) -> JuceState | None:
    """The state in a JUCE ``copyXmlToBinary`` chunk, or ``None`` when the chunk is something else."""
    try:
        root = ET.fromstring(binary_to_xml(chunk))
    except (ValueError, ET.ParseError):  # UnicodeDecodeError is a ValueError
        return None
    state = JuceState(root=root.tag, attributes=dict(root.attrib))
    for child in root:
        value = child.attrib.get("value")
        pid = child.attrib.get("id")
        number = _to_float(value) if value is not None else None
        if (
            child.tag == "PARAM"
            and set(child.attrib) == {"id", "value"}
            and pid is not None
            and pid not in state.params
            and number is not None
            and len(child) == 0
            and not (child.text or "").strip()
        ):
            state.params[pid] = number
        else:
            child.tail = None
            state.extra.append(ET.tostring(child, encoding="unicode"))
    return state


def _to_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _juce_escape(text: str) -> str:
    """Escape like JUCE's XmlElement writer: printable ASCII as is, except ``" & < > ^ `` ` and the rest as ``&#N;``."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "&":
            out.append("&amp;")
        elif ch == '"':
            out.append("&quot;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif 32 <= code < 127 and ch not in "^`":
            out.append(ch)
        else:
            out.append(f"&#{code};")
    return "".join(out)


def _juce_number(value: float) -> str:
    """A double as JUCE writes it into XML: the shortest round-trip text, with ``.0`` on whole numbers."""
    value = float(value)
    if not math.isfinite(value):
        raise PresetError(f"JUCE state: expected a finite parameter value, found {value}")
    return repr(value)


def _element(tag: str, attributes: Mapping[str, str]) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", tag):
        raise PresetError(f"JUCE state: expected an XML tag name, found {tag!r}")
    attrs = "".join(f' {name}="{_juce_escape(str(v))}"' for name, v in attributes.items())
    return f"<{tag}{attrs}"


def encode_juce_chunk(state: JuceState) -> bytes:
    """``copyXmlToBinary`` bytes for a state (the length field excludes the NUL, as JUCE writes it)."""
    parts = [XML_HEADER, " ", _element(state.root, state.attributes)]
    children = [_element("PARAM", {"id": pid, "value": _juce_number(v)}) + "/>" for pid, v in state.params.items()]
    for text in state.extra:
        try:
            element = ET.fromstring(text)
        except ET.ParseError as e:
            raise PresetError(f"JUCE state: extra element is not XML ({e}): {text[:80]!r}") from None
        children.append(_juce_xml(element))
    if children:
        parts += [">", *children, f"</{state.root}>"]
    else:
        parts.append("/>")
    return xml_to_binary("".join(parts))


def _juce_xml(element: ET.Element) -> str:
    head = _element(element.tag, element.attrib)
    text = (element.text or "").strip()
    if len(element) == 0 and not text:
        return head + "/>"
    inner = _juce_escape(text) + "".join(_juce_xml(c) for c in element)
    return f"{head}>{inner}</{element.tag}>"


# --------------------------------------------------------------------------- descriptions


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _to_float(value.strip())
    return None


def normalize_descriptions(descriptions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Parameter descriptions as ``{"index", "name", "unit", ...}`` dicts, one per index.

    Accepts DawDreamer's ``get_parameters_description()`` dicts (unit in ``label``), the output
    of :func:`dawdreamer_descriptions`, or plain dicts ``{"name": ..., "unit": ..., "min": ...,
    "max": ..., "real": ..., "display": ...}`` (all keys optional; without ``index`` the list
    position is the index). ``real``/``display`` are the real value and its text for the
    preset's value. Plain dicts with numeric ``min``/``max`` (and no DawDreamer keys) give a
    linear real value ``min + value * (max - min)``.
    """
    out: list[dict[str, Any]] = []
    for pos, d in enumerate(descriptions):
        if not isinstance(d, Mapping):
            raise PresetError(f"descriptions[{pos}]: expected a dict, found {type(d).__name__}")
        index = d.get("index", pos)
        if isinstance(index, bool) or not isinstance(index, int):
            raise PresetError(f"descriptions[{pos}].index: expected an int, found {index!r}")
        entry: dict[str, Any] = {"index": index}
        if d.get("name") is not None:
            entry["name"] = str(d["name"])
        unit = d.get("unit", d.get("label"))
        if unit is not None:
            entry["unit"] = str(unit)
        if "real" in d and _as_float(d["real"]) is not None:
            entry["real"] = _as_float(d["real"])
        if d.get("display") is not None:
            entry["display"] = str(d["display"])
        from_dawdreamer = "currentValText" in d
        lo, hi = _as_float(d.get("min")), _as_float(d.get("max"))
        if not from_dawdreamer and lo is not None and hi is not None:
            entry["min"], entry["max"] = lo, hi
        out.append(entry)
    return out


def dawdreamer_descriptions(processor: Any, values: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """Descriptions of a DawDreamer plugin processor's parameters: index, name, unit.

    With ``values`` (a program's normalized values), also the plugin's own ``display`` text for
    each value and the ``real`` value when that text is a number: each parameter is set to the
    value, read with ``get_parameter_text``, and set back to what it was.
    """
    raw = processor.get_parameters_description()
    out = []
    for d in raw:
        out.append({"index": int(d["index"]), "name": str(d.get("name", "")), "unit": str(d.get("label", ""))})
    if values is not None:
        if len(values) != len(out):
            raise PresetError(f"params: the plugin has {len(out)} parameters, the preset has {len(values)}")
        for entry, v in zip(out, values, strict=True):
            i = entry["index"]
            old = processor.get_parameter(i)
            processor.set_parameter(i, float(v))
            text = str(processor.get_parameter_text(i)).strip()
            processor.set_parameter(i, old)
            entry["display"] = text
            number = re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text)
            if number:
                entry["real"] = float(number.group(0))
    return out


# --------------------------------------------------------------------------- program <-> JSON


def _layout_of_program(program: Program) -> dict[str, Any]:
    layout: dict[str, Any] = {}
    if program.byte_size == 0:
        layout["byte_size"] = 0
    raw = program.name_raw
    if raw is not None:
        try:
            plain: bytes | None = program.name.encode("ascii").ljust(28, b"\0")
        except UnicodeEncodeError:
            plain = None
        if raw != plain:
            layout["name_bytes"] = raw.hex()
    return layout


def _chunk_to_json(chunk: bytes) -> dict[str, Any]:
    state = decode_juce_chunk(chunk)
    if state is None:
        return {"encoding": "base64", "data": base64.b64encode(chunk).decode("ascii")}
    out: dict[str, Any] = {
        "encoding": "juce-xml",
        "root": state.root,
        "attributes": state.attributes,
        "params": state.params,
    }
    if state.extra:
        out["extra"] = state.extra
    try:
        exact = encode_juce_chunk(state) == chunk
    except PresetError:
        exact = False
    if not exact:
        out["raw_base64"] = base64.b64encode(chunk).decode("ascii")
    return out


def program_to_json(program: Program, descriptions: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A program as a JSON-ready dict (see the module docstring)."""
    out: dict[str, Any] = {
        "type": PROGRAM_TYPE,
        "format": program.fx_magic,
        "name": program.name,
        "plugin_id": fourcc(program.plugin_id),
        "plugin_version": program.plugin_version,
        "fxp_version": program.format_version,
    }
    if program.params is not None:
        descs = {d["index"]: d for d in normalize_descriptions(descriptions)} if descriptions is not None else {}
        if descriptions is not None and len(descs) != len(program.params):
            raise PresetError(
                f"descriptions: expected one per parameter ({len(program.params)}), found {len(descs)}"
            )
        params = []
        for i, v in enumerate(program.params):
            entry: dict[str, Any] = {"index": i}
            d = descs.get(i)
            if d is not None and "name" in d:
                entry["name"] = d["name"]
            entry["value"] = float(v)
            if d is not None:
                if "real" in d:
                    entry["real"] = d["real"]
                elif "min" in d and "max" in d:
                    entry["real"] = d["min"] + float(v) * (d["max"] - d["min"])
                if "unit" in d:
                    entry["unit"] = d["unit"]
                if "display" in d:
                    entry["display"] = d["display"]
            params.append(entry)
        out["params"] = params
    else:
        assert program.chunk is not None
        out["num_params"] = program.num_params if program.num_params is not None else 0
        out["chunk"] = _chunk_to_json(program.chunk)
    layout = _layout_of_program(program)
    if layout:
        out["layout"] = layout
    return out


def _get(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if key not in obj:
        if default is ...:
            raise PresetError(f"{where}{key}: missing")
        return default
    value = obj[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise PresetError(f"{where}{key}: expected {names}, found {value!r}")
    return value


def _plugin_id_from_json(obj: Mapping[str, Any], where: str) -> int:
    value = _get(obj, "plugin_id", where, (int, str))
    try:
        return parse_plugin_id(value)
    except PresetError as e:
        raise PresetError(f"{where}{e}") from None


def _chunk_from_json(obj: Any, where: str) -> bytes:
    if not isinstance(obj, Mapping):
        raise PresetError(f"{where}chunk: expected an object, found {obj!r}")
    encoding = _get(obj, "encoding", where + "chunk.", str)
    if encoding == "base64":
        return _b64(_get(obj, "data", where + "chunk.", str), where + "chunk.data")
    if encoding != "juce-xml":
        raise PresetError(f"{where}chunk.encoding: expected 'juce-xml' or 'base64', found {encoding!r}")
    params_obj = _get(obj, "params", where + "chunk.", dict)
    params: dict[str, float] = {}
    for pid, v in params_obj.items():
        number = _as_float(v)
        if number is None:
            raise PresetError(f"{where}chunk.params.{pid}: expected a finite number, found {v!r}")
        params[str(pid)] = number
    attrs = _get(obj, "attributes", where + "chunk.", dict, {})
    extra = _get(obj, "extra", where + "chunk.", list, [])
    if not all(isinstance(e, str) for e in extra):
        raise PresetError(f"{where}chunk.extra: expected a list of XML strings")
    state = JuceState(
        root=_get(obj, "root", where + "chunk.", str),
        attributes={str(k): str(v) for k, v in attrs.items()},
        params=params,
        extra=list(extra),
    )
    if "raw_base64" in obj:
        raw = _b64(_get(obj, "raw_base64", where + "chunk.", str), where + "chunk.raw_base64")
        if decode_juce_chunk(raw) == state:
            return raw
    return encode_juce_chunk(state)


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise PresetError(f"{where}: expected base64 text ({e})") from None


def _hex(text: str, where: str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise PresetError(f"{where}: expected hex text, found {text[:40]!r}") from None
    if len(raw) != size:
        raise PresetError(f"{where}: expected {size} bytes, found {len(raw)}")
    return raw


def _params_from_json(items: Any, where: str) -> list[float]:
    if not isinstance(items, list):
        raise PresetError(f"{where}params: expected a list, found {type(items).__name__}")
    values: dict[int, float] = {}
    for pos, item in enumerate(items):
        at = f"{where}params[{pos}]."
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            index, value = pos, item
        elif isinstance(item, Mapping):
            index = _get(item, "index", at, int, pos)
            value = _get(item, "value", at, (int, float))
        else:
            raise PresetError(f"{where}params[{pos}]: expected an object or a number, found {item!r}")
        if not math.isfinite(float(value)):
            raise PresetError(f"{at}value: expected a finite number, found {value!r}")
        if index in values:
            raise PresetError(f"{at}index: index {index} appears twice")
        values[index] = float(value)
    if sorted(values) != list(range(len(values))):
        missing = sorted(set(range(len(values))) - set(values))
        raise PresetError(f"{where}params: expected indexes 0..{len(values) - 1}, missing {missing[:5]}")
    return [values[i] for i in range(len(values))]


def program_from_json(obj: Mapping[str, Any], where: str = "") -> Program:
    """A program from the dict :func:`program_to_json` makes (only ``value`` of each parameter is used)."""
    if not isinstance(obj, Mapping):
        raise PresetError(f"{where or 'JSON'}: expected an object, found {type(obj).__name__}")
    kind = obj.get("type", PROGRAM_TYPE)
    if kind != PROGRAM_TYPE:
        raise PresetError(f"{where}type: expected {PROGRAM_TYPE!r}, found {kind!r}")
    fmt = _get(obj, "format", where, str, None)
    if fmt is None:
        fmt = "FPCh" if "chunk" in obj else "FxCk"
    if fmt not in ("FxCk", "FPCh"):
        raise PresetError(f"{where}format: expected 'FxCk' or 'FPCh', found {fmt!r}")
    layout = _get(obj, "layout", where, dict, {})
    name = _get(obj, "name", where, str, "")
    name_raw = None
    if "name_bytes" in layout:
        name_raw = _hex(_get(layout, "name_bytes", where + "layout.", str), where + "layout.name_bytes", 28)
        if name_raw.split(b"\0", 1)[0].decode("latin-1") != name:
            name_raw = None  # the name was edited: write the new one
    byte_size = 0 if layout.get("byte_size") == 0 else None
    common: dict[str, Any] = {
        "name": name,
        "plugin_id": _plugin_id_from_json(obj, where),
        "plugin_version": _get(obj, "plugin_version", where, int, 1),
        "format_version": _get(obj, "fxp_version", where, int, 1),
        "name_raw": name_raw,
        "byte_size": byte_size,
    }
    if fmt == "FxCk":
        return Program(params=_params_from_json(obj.get("params"), where), **common)
    return Program(
        chunk=_chunk_from_json(obj.get("chunk"), where),
        num_params=_get(obj, "num_params", where, int, 0),
        **common,
    )


def bank_to_json(bank: Bank, descriptions: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A bank as a JSON-ready dict (see the module docstring)."""
    out: dict[str, Any] = {
        "type": BANK_TYPE,
        "format": bank.fx_magic,
        "plugin_id": fourcc(bank.plugin_id),
        "plugin_version": bank.plugin_version,
        "fxb_version": bank.format_version,
    }
    if bank.current_program is not None and bank.format_version >= 2:
        out["current_program"] = bank.current_program
    if bank.programs is not None:
        out["programs"] = [program_to_json(p, descriptions) for p in bank.programs]
    else:
        assert bank.chunk is not None
        out["num_programs"] = bank.num_programs if bank.num_programs is not None else 1
        out["chunk"] = _chunk_to_json(bank.chunk)
    layout: dict[str, Any] = {}
    if bank.byte_size == 0:
        layout["byte_size"] = 0
    if bank.future is not None and any(bank.future):
        layout["future"] = bank.future.hex()
    if layout:
        out["layout"] = layout
    return out


def bank_from_json(obj: Mapping[str, Any]) -> Bank:
    """A bank from the dict :func:`bank_to_json` makes."""
    if not isinstance(obj, Mapping):
        raise PresetError(f"JSON: expected an object, found {type(obj).__name__}")
    if obj.get("type") != BANK_TYPE:
        raise PresetError(f"type: expected {BANK_TYPE!r}, found {obj.get('type')!r}")
    fmt = _get(obj, "format", "", str)
    if fmt not in ("FxBk", "FBCh"):
        raise PresetError(f"format: expected 'FxBk' or 'FBCh', found {fmt!r}")
    version = _get(obj, "fxb_version", "", int, 2)
    layout = _get(obj, "layout", "", dict, {})
    future = None
    if "future" in layout:
        future = _hex(_get(layout, "future", "layout.", str), "layout.future", 124 if version >= 2 else 128)
    common: dict[str, Any] = {
        "plugin_id": _plugin_id_from_json(obj, ""),
        "plugin_version": _get(obj, "plugin_version", "", int, 1),
        "format_version": version,
        "current_program": _get(obj, "current_program", "", int, 0) if version >= 2 else None,
        "future": future,
        "byte_size": 0 if layout.get("byte_size") == 0 else None,
    }
    if fmt == "FxBk":
        programs = _get(obj, "programs", "", list)
        return Bank(programs=[program_from_json(p, f"programs[{i}].") for i, p in enumerate(programs)], **common)
    return Bank(chunk=_chunk_from_json(obj.get("chunk"), ""), num_programs=_get(obj, "num_programs", "", int, 1),
                **common)


def preset_to_json(preset: Program | Bank, descriptions: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    if isinstance(preset, Bank):
        return bank_to_json(preset, descriptions)
    return program_to_json(preset, descriptions)


def preset_from_json(obj: Mapping[str, Any]) -> Program | Bank:
    """A program or a bank, by the ``type`` field."""
    if isinstance(obj, Mapping) and obj.get("type") == BANK_TYPE:
        return bank_from_json(obj)
    return program_from_json(obj)
