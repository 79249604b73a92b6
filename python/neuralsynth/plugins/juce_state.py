"""Read and write the state of our JUCE plugins from Python.

JUCE stores a plugin's state as ``copyXmlToBinary`` data: the magic ``VC2!``, a little-endian
size, then the XML text with a trailing NUL (the one codec for it here: VST2 preset chunks in
:mod:`neuralsynth.presets.convert` use it too). pedalboard's ``raw_state`` of a VST3 wraps that
in its own ``VC2!`` XML (``<VST3PluginState><IComponent>size.base64</IComponent>...``), the
base64 being JUCE's MemoryBlock encoding (its own alphabet, bits taken least significant first).
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

MAGIC = b"VC2!"
_TABLE = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def xml_to_binary(xml: str) -> bytes:
    """``copyXmlToBinary`` data for XML text, as JUCE writes it: the magic, the text's length in
    bytes (little-endian, the NUL not counted), the UTF-8 text, a NUL."""
    body = xml.encode("utf-8")
    return MAGIC + struct.pack("<I", len(body)) + body + b"\0"


def binary_to_xml(data: bytes) -> str:
    """The XML text of ``copyXmlToBinary`` data; ValueError when the data is something else."""
    if len(data) < 9 or data[:4] != MAGIC:
        raise ValueError("not JUCE copyXmlToBinary data (bad magic)")
    (size,) = struct.unpack("<I", data[4:8])
    if size > len(data) - 8:
        raise ValueError(f"not JUCE copyXmlToBinary data ({size} bytes of text announced, {len(data) - 8} there)")
    return data[8 : 8 + size].rstrip(b"\0").decode("utf-8")


def memoryblock_encode(data: bytes) -> str:
    nbits = len(data) * 8
    chars = []
    for start in range(0, (nbits // 6 + 1) * 6, 6):
        v = 0
        for b in range(6):
            bit = start + b
            if bit < nbits and (data[bit >> 3] >> (bit & 7)) & 1:
                v |= 1 << b
        chars.append(_TABLE[v])
    return f"{len(data)}." + "".join(chars)


def memoryblock_decode(text: str) -> bytes:
    size_text, payload = text.strip().split(".", 1)
    size = int(size_text)
    out = bytearray(size)
    bit = 0
    for ch in payload:
        v = _TABLE.index(ch)
        for b in range(6):
            if bit >> 3 < size and (v >> b) & 1:
                out[bit >> 3] |= 1 << (bit & 7)
            bit += 1
    return bytes(out)


def plugin_state(raw_state: bytes) -> ET.Element:
    """The plugin's own state XML from pedalboard's VST3 ``raw_state``."""
    outer = binary_to_xml(raw_state)
    m = re.search(r"<IComponent>([^<]*)</IComponent>", outer)
    if not m:
        raise ValueError("no IComponent in the VST3 state")
    return ET.fromstring(binary_to_xml(memoryblock_decode(m.group(1))))


def with_plugin_state(raw_state: bytes, state: ET.Element) -> bytes:
    """pedalboard's ``raw_state`` with the plugin's own state replaced by ``state``."""
    outer = binary_to_xml(raw_state)
    inner = memoryblock_encode(xml_to_binary(ET.tostring(state, encoding="unicode")))
    outer = re.sub(r"<IComponent>[^<]*</IComponent>", f"<IComponent>{inner}</IComponent>", outer, count=1)
    return xml_to_binary(outer)
