"""neuralsynth.presets: VST2 .fxp/.fxb files, JSON, and applying presets in real hosts.

Files come from three independent places: bytes built here with ``struct`` straight from the
format description, banks written by DawDreamer (``tests/fixtures/presets``, and live), and
our own writer. The hosts are real: Nekobi (dpf-plugins-vst) in DawDreamer, and our JUCE
plugin built as VST2 and VST3 (DawDreamer and pedalboard).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuralsynth.errors import NeuralSynthError
from neuralsynth.presets import (
    Bank,
    PresetError,
    Program,
    Vst2ProbeError,
    apply_preset_dawdreamer,
    apply_preset_pedalboard,
    check_plugin_id,
    dawdreamer_descriptions,
    decode_juce_chunk,
    encode_juce_chunk,
    preset_from_bytes,
    preset_from_json,
    preset_to_bytes,
    preset_to_json,
    program_from_json,
    program_to_bytes,
    program_to_json,
    random_programs,
    read_fxb,
    read_fxp,
    read_preset,
    vst2_info,
    write_fxb,
    write_fxp,
    write_random_presets,
)

daw = pytest.importorskip("dawdreamer")

PRESETS = Path(__file__).parent / "fixtures" / "presets"
NEKOBI_BANK = PRESETS / "nekobi_dawdreamer.fxb"
OURS_BANK = PRESETS / "ns_test_drive_dawdreamer.fxb"
NEKOBI = Path("/usr/lib/vst/Nekobi-vst.so")
DNEK = int.from_bytes(b"DNek", "big")

needs_nekobi = pytest.mark.skipif(not NEKOBI.is_file(), reason="Nekobi VST2 missing (apt-get install dpf-plugins-vst)")


# --------------------------------------------------------------------------- files from the spec, by hand


def f32(values: list[float]) -> bytes:
    """Big-endian float32 bytes of normal values. (Subnormals are written as bits in the tests:
    once Nekobi, built with -ffast-math, is loaded, the FPU flushes them to zero in ``struct``.)"""
    return struct.pack(f">{len(values)}f", *values)


def fxp(
    magic: bytes = b"FxCk",
    params: list[float] | bytes | None = None,
    chunk: bytes | None = None,
    name: bytes = b"Init",
    fx_id: bytes = b"TsT1",
    version: int = 1,
    fx_version: int = 3,
    byte_size: int | None = None,
    num: int | None = None,
) -> bytes:
    """A .fxp written from the format description, independent of the code under test."""
    if chunk is None:
        raw = f32([0.25, 0.5] if params is None else params) if not isinstance(params, bytes) else params
        tail = raw
        count = len(raw) // 4 if num is None else num
    else:
        tail = struct.pack(">i", len(chunk)) + chunk
        count = 0 if num is None else num
    body = magic + struct.pack(">I", version) + fx_id + struct.pack(">Ii", fx_version, count)
    body += name.ljust(28, b"\0")[:28] + tail
    return b"CcnK" + struct.pack(">i", len(body) if byte_size is None else byte_size) + body


def fxb(
    magic: bytes = b"FxBk",
    programs: list[bytes] | None = None,
    chunk: bytes | None = None,
    version: int = 2,
    current: int = 1,
    future: bytes = b"",
    fx_id: bytes = b"TsT1",
    byte_size: int | None = None,
    num: int | None = None,
) -> bytes:
    if chunk is None:
        programs = programs if programs is not None else [fxp(name=b"A"), fxp(name=b"B", params=[1.0, 0.0])]
        tail = b"".join(programs)
        count = len(programs) if num is None else num
    else:
        tail = struct.pack(">i", len(chunk)) + chunk
        count = 1 if num is None else num
    reserved = (struct.pack(">i", current) if version >= 2 else b"") + future
    reserved = reserved.ljust(128, b"\0")
    body = magic + struct.pack(">I", version) + fx_id + struct.pack(">Ii", 3, count) + reserved + tail
    return b"CcnK" + struct.pack(">i", len(body) if byte_size is None else byte_size) + body


SUBNORMAL_BITS = struct.pack(">5I", 0, 0x3E000000, 0x3F800000, 0x80000000, 0x00000001)
SUBNORMAL_VALUES = [0.0, 0.125, 1.0, -0.0, math.ldexp(1.0, -149)]


def test_fxck_by_hand_parses_and_writes_back_byte_exact() -> None:
    # A name with garbage after its NUL, as some hosts leave it: the bytes must survive.
    data = fxp(params=SUBNORMAL_BITS, name=b"Lead\0junk!")
    program = preset_from_bytes(data)
    assert isinstance(program, Program)
    assert program.name == "Lead" and program.plugin_id == int.from_bytes(b"TsT1", "big")
    assert program.plugin_version == 3 and program.format_version == 1 and program.chunk is None
    assert program.params == SUBNORMAL_VALUES
    assert program.params is not None and math.copysign(1.0, program.params[3]) == -1.0
    assert program_to_bytes(program) == data


@needs_nekobi
def test_subnormal_values_survive_a_fast_math_plugin_in_the_process() -> None:
    engine = daw.RenderEngine(44100, 512)
    engine.make_plugin_processor("s", str(NEKOBI))  # DPF plugins set flush-to-zero when loaded
    data = fxp(params=SUBNORMAL_BITS)
    program = read_preset_bytes(data)
    assert program.params == SUBNORMAL_VALUES and program_to_bytes(program) == data
    written = Program(name="x", plugin_id=1, params=[math.ldexp(3.0, -140), -math.ldexp(1.0, -126)])
    assert program_to_bytes(written)[-8:] == struct.pack(">II", 0x00000600, 0x80800000)


def test_fpch_by_hand_round_trip() -> None:
    data = fxp(b"FPCh", chunk=bytes(range(256)) * 3, num=17, name=b"Chunky")
    program = read_preset_bytes(data)
    assert program.chunk == bytes(range(256)) * 3 and program.num_params == 17 and program.params is None
    assert program_to_bytes(program) == data


def read_preset_bytes(data: bytes) -> Program:
    p = preset_from_bytes(data)
    assert isinstance(p, Program)
    return p


def test_fxbk_version2_by_hand_round_trip() -> None:
    future = b"\x01reserved-bytes-kept"
    data = fxb(programs=[fxp(name=b"A"), fxp(name=b"B", params=[1.0, 0.75]), fxp(name=b"C", byte_size=0)],
               current=2, future=future)
    bank = preset_from_bytes(data)
    assert isinstance(bank, Bank) and bank.fx_magic == "FxBk" and bank.format_version == 2
    assert bank.current_program == 2 and bank.future is not None and bank.future.startswith(future)
    assert [p.name for p in bank.programs or []] == ["A", "B", "C"]
    assert bank.programs is not None and bank.programs[1].params == [1.0, 0.75]
    assert preset_to_bytes(bank) == data


def test_fbch_version1_by_hand_round_trip() -> None:
    data = fxb(b"FBCh", chunk=b"\x00opaque\xff" * 10, version=1, num=4, byte_size=0)
    bank = preset_from_bytes(data)
    assert isinstance(bank, Bank) and bank.chunk == b"\x00opaque\xff" * 10
    assert bank.current_program is None and bank.num_programs == 4 and bank.byte_size == 0
    assert preset_to_bytes(bank) == data


def test_writer_output_matches_the_spec_layout(tmp_path: Path) -> None:
    program = Program(name="Init", plugin_id=int.from_bytes(b"TsT1", "big"), params=[0.25, 0.5], plugin_version=3)
    path = write_fxp(program, tmp_path / "p.fxp")
    assert path.read_bytes() == fxp()
    bank = Bank(plugin_id=int.from_bytes(b"TsT1", "big"), plugin_version=3, current_program=1,
                programs=[Program(name=n, plugin_id=int.from_bytes(b"TsT1", "big"), params=v, plugin_version=3)
                          for n, v in (("A", [0.25, 0.5]), ("B", [1.0, 0.0]))])
    assert write_fxb(bank, tmp_path / "b.fxb").read_bytes() == fxb()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.fxb", "p.fxp"]  # no temporary files left
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # usual permissions, not mkstemp's 0600


# --------------------------------------------------------------------------- files written by DawDreamer


def test_dawdreamer_nekobi_bank_fixture_round_trip() -> None:
    data = NEKOBI_BANK.read_bytes()
    bank = read_fxb(NEKOBI_BANK)
    assert bank.fx_magic == "FxBk" and bank.plugin_id == DNEK and bank.byte_size == 0
    assert bank.programs is not None and len(bank.programs) == 1
    (program,) = bank.programs
    assert program.name == "Default" and len(program.params or []) == 8 and program.plugin_version == 0x00010100
    assert preset_to_bytes(bank) == data
    assert preset_to_bytes(preset_from_json(json.loads(json.dumps(preset_to_json(bank))))) == data


def test_dawdreamer_juce_chunk_fixture_decodes_and_round_trips() -> None:
    data = OURS_BANK.read_bytes()
    bank = read_preset(OURS_BANK)
    assert isinstance(bank, Bank) and bank.fx_magic == "FBCh" and bank.chunk is not None
    assert preset_to_bytes(bank) == data
    state = decode_juce_chunk(bank.chunk)
    assert state is not None and state.root == "NeuralSynthEffect"
    assert "model" in state.attributes
    assert state.params["input_gain"] == pytest.approx(-9.6, abs=1e-5)
    assert state.params["mix"] == pytest.approx(12.35, abs=1e-5)
    assert state.params["dc_block"] == 1.0 and state.params["bypass"] == 0.0
    # We write the XML as JUCE does: the same bytes come back, so the JSON needs no raw copy.
    assert encode_juce_chunk(state) == bank.chunk
    doc = json.loads(json.dumps(preset_to_json(bank)))
    assert doc["chunk"]["encoding"] == "juce-xml" and "raw_base64" not in doc["chunk"]
    assert doc["chunk"]["params"]["input_gain"] == state.params["input_gain"]
    assert preset_to_bytes(preset_from_json(doc)) == data
    # An edit in the JSON reaches the chunk.
    doc["chunk"]["params"]["output_gain"] = 3.5
    edited = preset_from_json(doc)
    assert isinstance(edited, Bank) and edited.chunk is not None
    new_state = decode_juce_chunk(edited.chunk)
    assert new_state is not None and new_state.params["output_gain"] == 3.5
    assert new_state.attributes == state.attributes


@needs_nekobi
def test_dawdreamer_save_state_live_round_trip_and_id_matches_probe(tmp_path: Path) -> None:
    engine = daw.RenderEngine(44100, 512)
    synth = engine.make_plugin_processor("s", str(NEKOBI))
    synth.set_parameter(2, 0.7)
    synth.set_parameter(7, 0.1)
    path = tmp_path / "state.fxb"
    synth.save_state(str(path))
    data = path.read_bytes()
    bank = read_preset(path)
    assert isinstance(bank, Bank) and preset_to_bytes(bank) == data
    assert bank.programs is not None
    assert bank.programs[0].params is not None and bank.programs[0].params[2] == pytest.approx(0.7, abs=1e-6)
    info = vst2_info(NEKOBI)
    assert bank.plugin_id == info["unique_id"] == DNEK
    assert info["unique_id_text"] == "DNek" and info["num_params"] == 8 and info["num_programs"] == 1
    assert info["name"] == "Nekobi" and info["is_synth"] and not info["program_chunks"]
    check_plugin_id(bank, NEKOBI)


# --------------------------------------------------------------------------- JSON


def test_json_round_trip_fxck_with_descriptions() -> None:
    program = Program(name="Bass", plugin_id=DNEK, params=[0.0, 0.5, 0.25], plugin_version=7)
    descriptions = [
        {"name": "Wave", "unit": ""},
        {"name": "Cutoff", "unit": "Hz", "min": 20, "max": 20020},
        {"name": "Drive", "label": "dB", "real": -6.0, "display": "-6.0"},
    ]
    doc = json.loads(json.dumps(program_to_json(program, descriptions)))
    assert doc["plugin_id"] == "DNek" and doc["format"] == "FxCk" and doc["name"] == "Bass"
    assert doc["params"][1] == {"index": 1, "name": "Cutoff", "value": 0.5, "real": 10020.0, "unit": "Hz"}
    assert doc["params"][2]["real"] == -6.0 and doc["params"][2]["unit"] == "dB"
    assert doc["params"][2]["display"] == "-6.0"
    back = program_from_json(doc)
    assert back == program
    assert program_to_bytes(back) == program_to_bytes(program)


def test_json_round_trip_opaque_chunk_is_base64() -> None:
    program = read_preset_bytes(fxp(b"FPCh", chunk=b"\x00\x01binary\xfe", num=3, name=b"X\0pad"))
    doc = json.loads(json.dumps(program_to_json(program)))
    assert doc["chunk"] == {"encoding": "base64", "data": "AAFiaW5hcnn+"}
    assert program_to_bytes(program_from_json(doc)) == program_to_bytes(program)


def test_json_keeps_exact_bytes_of_a_juce_chunk_we_would_write_differently() -> None:
    xml = b'<?xml version="1.0"?>\n<S a="1"><PARAM id="g" value="1"/><X/></S>'
    chunk = b"VC2!" + struct.pack("<I", len(xml)) + xml + b"\0"
    program = Program(name="J", plugin_id=1, chunk=chunk, num_params=1)
    doc = json.loads(json.dumps(program_to_json(program)))
    assert doc["chunk"]["params"] == {"g": 1.0} and doc["chunk"]["extra"] == ["<X />"]
    assert "raw_base64" in doc["chunk"]
    assert program_from_json(doc).chunk == chunk
    doc["chunk"]["params"]["g"] = 2.0
    state = decode_juce_chunk(program_from_json(doc).chunk or b"")
    assert state is not None and state.params == {"g": 2.0} and state.attributes == {"a": "1"}


@needs_nekobi
def test_dawdreamer_descriptions_give_names_units_and_real_values() -> None:
    engine = daw.RenderEngine(44100, 512)
    synth = engine.make_plugin_processor("s", str(NEKOBI))
    before = [synth.get_parameter(i) for i in range(8)]
    values = [0.0, 0.5, 0.684, 0.9, 0.5, 0.5, 0.5, 0.25]
    descs = dawdreamer_descriptions(synth, values)
    assert [d["name"] for d in descs][:3] == ["Waveform", "Tuning", "Cutoff"]
    assert descs[2]["unit"] == "%" and descs[2]["real"] == pytest.approx(68.4, abs=1e-3)
    assert descs[0]["display"] == "Square"
    assert [synth.get_parameter(i) for i in range(8)] == before  # the processor is left as it was
    doc = program_to_json(Program(name="x", plugin_id=DNEK, params=values), descs)
    assert doc["params"][7]["name"] == "Volume" and doc["params"][7]["real"] == pytest.approx(25.0, abs=1e-3)


# --------------------------------------------------------------------------- bad files


def _bad_files() -> list[tuple[str, bytes, list[str]]]:
    good = fxp(params=[0.1, 0.2, 0.3])
    nan = bytearray(good)
    nan[60:64] = struct.pack(">f", float("nan"))
    inf = bytearray(good)
    inf[56:60] = struct.pack(">f", float("inf"))
    return [
        ("empty", b"", ["chunkMagic", "truncated"]),
        ("truncated header", good[:30], ["truncated"]),
        ("truncated params", good[:-2], ["byteSize", "remain"]),
        ("truncated, byteSize 0", fxp(params=[0.1, 0.2, 0.3], byte_size=0)[:-2], ["params", "truncated"]),
        ("wrong chunkMagic", b"RIFF" + good[4:], ["chunkMagic", "CcnK", "RIFF"]),
        ("wrong fxMagic", good[:8] + b"FxXX" + good[12:], ["fxMagic", "FxCk", "FxXX"]),
        ("byteSize too big", fxp(byte_size=1000), ["byteSize", "1000"]),
        ("byteSize too small", fxp(byte_size=50), ["byteSize", "says 50", "need at least 56"]),
        ("byteSize covers extra bytes", fxp(byte_size=60) + b"\0" * 4, ["byteSize", "expected 56", "found 60"]),
        ("byteSize negative", fxp(byte_size=-8), ["byteSize", ">= 0", "-8"]),
        ("numParams too big", fxp(params=[0.1, 0.2], num=100000, byte_size=0), ["numParams", "100000"]),
        ("numParams too small", fxp(params=[0.1, 0.2], num=1), ["byteSize"]),
        ("numParams negative", fxp(params=[0.1], num=-1, byte_size=0), ["numParams", ">= 0", "-1"]),
        ("chunk size 2 GB", fxp(b"FPCh", chunk=b"abc")[:-7] + struct.pack(">i", 0x7FFFFFFF) + b"abc",
         ["chunkSize", "2147483647"]),
        ("chunk size negative", fxp(b"FPCh", chunk=b"abc")[:-7] + struct.pack(">I", 0x80000000) + b"abc",
         ["chunkSize", ">= 0", "-2147483648"]),
        ("NaN parameter", bytes(nan), ["params[1]", "finite", "nan"]),
        ("inf parameter", bytes(inf), ["params[0]", "finite", "inf"]),
        ("trailing data", good + b"\0\0\0\0", ["end", "4 more bytes"]),
        ("trailing data, byteSize 0", fxp(byte_size=0) + b"xx", ["end", "2 more bytes"]),
        ("bank numPrograms huge", fxb(num=0x7FFFFFF0, byte_size=0), ["numPrograms", str(0x7FFFFFF0)]),
        ("bank numPrograms negative", fxb(num=-5, byte_size=0), ["numPrograms", ">= 0"]),
        ("bank program with wrong magic", fxb(programs=[fxp(b"FPCh", chunk=b"c")]), ["program 0: fxMagic", "FPCh"]),
        ("bank program truncated", fxb(programs=[fxp(), fxp()[:-1]]), ["program 1:"]),
        ("bank chunk too long", fxb(b"FBCh", chunk=b"abcd")[:-1], ["byteSize"]),
    ]


@pytest.mark.parametrize("label, data, needles", _bad_files(), ids=[b[0] for b in _bad_files()])
def test_bad_files_raise_preset_error_naming_file_and_field(
    tmp_path: Path, label: str, data: bytes, needles: list[str]
) -> None:
    path = tmp_path / "bad.fxp"
    path.write_bytes(data)
    with pytest.raises(PresetError) as info:
        read_preset(path)
    message = str(info.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, f"{label}: {needle!r} not in {message!r}"
    assert isinstance(info.value, NeuralSynthError) and isinstance(info.value, ValueError)


def test_every_prefix_of_a_valid_file_is_rejected() -> None:
    for data in (fxp(params=[0.5] * 4), fxp(params=[0.5] * 4, byte_size=0), fxb(), NEKOBI_BANK.read_bytes()):
        for n in range(len(data)):
            with pytest.raises(PresetError):
                preset_from_bytes(data[:n])


def test_program_and_bank_readers_refuse_each_other(tmp_path: Path) -> None:
    (tmp_path / "b.fxp").write_bytes(fxb())
    with pytest.raises(PresetError, match=r"b\.fxp: fxMagic: .*that is a bank: read it as \.fxb"):
        read_fxp(tmp_path / "b.fxp")
    (tmp_path / "p.fxb").write_bytes(fxp())
    with pytest.raises(PresetError, match=r"p\.fxb: fxMagic: .*that is a program"):
        read_fxb(tmp_path / "p.fxb")
    with pytest.raises(PresetError, match="no such file"):
        read_preset(tmp_path / "missing.fxp")


@pytest.mark.parametrize(
    "program, needle",
    [
        (Program(name="Café", plugin_id=1, params=[0.5]), "ASCII"),
        (Program(name="x" * 28, plugin_id=1, params=[0.5]), "at most 27 characters"),
        (Program(name="n", plugin_id=1, params=[0.5, float("nan")]), "params[1]: expected a finite float"),
        (Program(name="n", plugin_id=1, params=[float("inf")]), "params[0]: expected a finite float"),
        (Program(name="n", plugin_id=1, params=[1e39]), "fits a float32"),
        (Program(name="n", plugin_id=2**32, params=[0.5]), "fxID"),
        (Program(name="n", plugin_id=1, chunk=b"x", num_params=-1), "numParams"),
    ],
)
def test_bad_programs_are_refused_on_write(tmp_path: Path, program: Program, needle: str) -> None:
    with pytest.raises(PresetError) as info:
        write_fxp(program, tmp_path / "out.fxp")
    assert needle in str(info.value)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_program_needs_exactly_one_of_params_and_chunk() -> None:
    with pytest.raises(PresetError, match="exactly one"):
        Program(name="x", plugin_id=1)
    with pytest.raises(PresetError, match="exactly one"):
        Program(name="x", plugin_id=1, params=[0.1], chunk=b"x")


# --------------------------------------------------------------------------- fuzzing

SEEDS = [
    fxp(params=[0.1, 0.9, 0.5]),
    fxp(params=[], byte_size=0),
    fxp(b"FPCh", chunk=b"VC2!\x05\0\0\0<a/>\0", num=2),
    fxb(),
    fxb(b"FBCh", chunk=b"opaque", version=1),
    NEKOBI_BANK.read_bytes(),
    OURS_BANK.read_bytes(),
]
INTERESTING = [0, 1, 4, 8, 27, 28, 56, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFFFFF0, 0xFFFFFFF8]


def _parse_or_preset_error(data: bytes) -> None:
    try:
        preset = preset_from_bytes(data)
    except PresetError:
        return
    assert preset_to_bytes(preset) == data  # whatever parses, writes back byte-exact


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "int32", "cut", "insert", "delete"]))
        if op == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
        elif op == "int32" and len(data) >= 4:
            i = draw(st.integers(0, (len(data) - 4) // 4)) * 4
            value = draw(st.sampled_from(INTERESTING) | st.integers(0, 0xFFFFFFFF))
            data[i : i + 4] = struct.pack(">I", value)
        elif op == "cut":
            del data[draw(st.integers(0, len(data))) :]
        elif op == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i : i + draw(st.integers(1, 8))]
    return bytes(data)


@st.composite
def structured(draw: st.DrawFn) -> bytes:
    """Headers with plausible and hostile fields over a random body."""
    is_bank = draw(st.booleans())
    magic = draw(st.sampled_from([b"FxBk", b"FBCh", b"FxCk", b"FPCh", b"XXXX"] if is_bank else
                                 [b"FxCk", b"FPCh", b"FxBk", b"zzzz"]))
    count = draw(st.sampled_from(INTERESTING) | st.integers(0, 6))
    head = magic + struct.pack(">IIII", draw(st.integers(0, 3)), 0x54735431, 1, count & 0xFFFFFFFF)
    head += draw(st.binary(min_size=0, max_size=132 if is_bank else 28))
    params = st.binary(max_size=12).map(lambda b: b[: len(b) // 4 * 4])  # any bits: NaN, subnormals, ...
    inner = b"".join(fxp(params=draw(params)) for _ in range(draw(st.integers(0, 3)))) if is_bank else b""
    body = head + inner + draw(st.binary(max_size=48))
    size = draw(st.sampled_from([len(body), 0, len(body) + 1, len(body) - 1]) | st.integers(-(2**31), 2**31 - 1))
    return b"CcnK" + struct.pack(">i", size) + body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fuzz_mutated_files_parse_or_raise_preset_error(data: bytes) -> None:
    _parse_or_preset_error(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured())
def test_fuzz_structured_files_parse_or_raise_preset_error(data: bytes) -> None:
    _parse_or_preset_error(data)


# --------------------------------------------------------------------------- probing VST2 plugins

FAKE_PLUGIN_C = r"""
#include <stdint.h>
#include <string.h>
typedef intptr_t (*cb_t)(void*, int32_t, int32_t, intptr_t, void*, float);
typedef struct AEffect {
    int32_t magic;
    intptr_t (*dispatcher)(struct AEffect*, int32_t, int32_t, intptr_t, void*, float);
    void *process, *setParameter, *getParameter;
    int32_t numPrograms, numParams, numInputs, numOutputs, flags;
    intptr_t resvd1, resvd2;
    int32_t initialDelay, realQualities, offQualities;
    float ioRatio;
    void *object, *user;
    int32_t uniqueID, version;
    void *processReplacing, *processDoubleReplacing;
    char future[56];
} AEffect;
static intptr_t dispatch(AEffect* e, int32_t op, int32_t i, intptr_t v, void* p, float o) {
    if (op == 45) { strcpy((char*)p, "Fake Synth"); return 1; }
    return 0;
}
static AEffect fx;
AEffect* VSTPluginMain(cb_t host) {
#ifdef CRASH
    *(volatile int*)0 = 1;
#endif
    if (host(0, 1, 0, 0, 0, 0.0f) != 2400) return 0;  /* audioMasterVersion must answer 2400 */
    memset(&fx, 0, sizeof fx);
    fx.magic = 0x56737450; fx.dispatcher = dispatch;
    fx.numPrograms = 5; fx.numParams = 3; fx.numOutputs = 2; fx.flags = (1 << 5) | (1 << 8);
    fx.uniqueID = 0x46616B31; fx.version = 42;
    return &fx;
}
"""


def _compile_fake(tmp_path: Path, name: str, *flags: str) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler")
    src = tmp_path / "fake.c"
    src.write_text(FAKE_PLUGIN_C)
    out = tmp_path / name
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", *flags, "-o", str(out), str(src)], check=True)
    return out


def test_probe_reads_the_aeffect_fields_of_a_plugin_written_from_the_spec(tmp_path: Path) -> None:
    info = vst2_info(_compile_fake(tmp_path, "fake.so"))
    assert info["unique_id"] == 0x46616B31 and info["unique_id_text"] == "Fak1"
    assert (info["num_params"], info["num_programs"], info["num_outputs"], info["version"]) == (3, 5, 2, 42)
    assert info["name"] == "Fake Synth" and info["program_chunks"] and info["is_synth"]


def test_probe_survives_a_crashing_plugin(tmp_path: Path) -> None:
    crashing = _compile_fake(tmp_path, "crash.so", "-DCRASH")
    with pytest.raises(Vst2ProbeError, match=r"crash\.so: the plugin crashed while loading \(signal 11\)"):
        vst2_info(crashing)
    assert vst2_info(_compile_fake(tmp_path, "ok.so"))["unique_id_text"] == "Fak1"  # this process lives on


def test_probe_refuses_files_that_are_not_vst2_plugins(tmp_path: Path) -> None:
    libm = next((p for p in Path("/usr/lib/x86_64-linux-gnu").glob("libm.so.6")), None)
    if libm is not None:
        with pytest.raises(Vst2ProbeError, match="no VSTPluginMain"):
            vst2_info(libm)
    (tmp_path / "text.so").write_text("not a library")
    with pytest.raises(Vst2ProbeError, match="cannot load it"):
        vst2_info(tmp_path / "text.so")
    with pytest.raises(Vst2ProbeError, match="no such plugin"):
        vst2_info(tmp_path / "missing.so")


# --------------------------------------------------------------------------- Nekobi in DawDreamer


def _render_nekobi(setup) -> tuple[np.ndarray, list[float]]:  # noqa: ANN001
    engine = daw.RenderEngine(44100, 512)
    synth = engine.make_plugin_processor("s", str(NEKOBI))
    setup(synth)
    values = [synth.get_parameter(i) for i in range(8)]
    synth.add_midi_note(60, 100, 0.0, 1.0)
    engine.load_graph([(synth, [])])
    engine.render(1.5)
    return np.asarray(engine.get_audio()), values


@needs_nekobi
def test_random_presets_apply_to_nekobi_and_render_like_set_parameter(tmp_path: Path) -> None:
    paths = write_random_presets(NEKOBI, 2, 11, tmp_path)
    assert [p.name for p in paths] == ["Nekobi-vst_11_0000.fxp", "Nekobi-vst_11_0001.fxp"]
    audio = []
    for path in paths:
        program = read_fxp(path)
        assert program.plugin_id == DNEK and program.params is not None and len(program.params) == 8
        loaded, after = _render_nekobi(lambda s, p=path: apply_preset_dawdreamer(s, p, NEKOBI))
        # (a) the processor holds the preset's values. Waveform (index 0) is Nekobi's two-way
        # switch: the plugin itself snaps it to 0 or 1 (set_parameter + render does the same).
        assert after[0] == (1.0 if program.params[0] >= 0.5 else 0.0)
        np.testing.assert_allclose(after[1:], program.params[1:], rtol=0, atol=1e-6)
        # (b) the same sound as setting the values directly.
        direct, _ = _render_nekobi(lambda s, p=program: [s.set_parameter(i, v) for i, v in enumerate(p.params)])
        assert loaded.shape == (1, 66150) and np.abs(loaded).max() > 1e-4
        np.testing.assert_allclose(loaded, direct, rtol=0, atol=1e-7)
        audio.append(loaded)
    # (c) two presets, two sounds.
    assert np.abs(audio[0] - audio[1]).max() > 1e-2


@needs_nekobi
def test_nekobi_rejects_presets_for_other_plugins_and_bad_files(tmp_path: Path) -> None:
    engine = daw.RenderEngine(44100, 512)
    synth = engine.make_plugin_processor("s", str(NEKOBI))
    before = [synth.get_parameter(i) for i in range(8)]
    wrong = write_fxp(Program(name="other", plugin_id=int.from_bytes(b"XXXX", "big"), params=[0.9] * 8),
                      tmp_path / "wrong.fxp")
    with pytest.raises(PresetError, match=r"wrong\.fxp: fxID: expected 'DNek' .*found 'XXXX'"):
        apply_preset_dawdreamer(synth, wrong, NEKOBI)
    with pytest.raises(PresetError, match="fxID: expected 'DNek'"):
        check_plugin_id(read_fxp(wrong), NEKOBI)
    with pytest.raises(PresetError, match="expected 'MVrb'"):
        check_plugin_id(read_fxp(wrong), "MVrb")
    short = write_fxp(Program(name="short", plugin_id=DNEK, params=[0.9] * 3), tmp_path / "short.fxp")
    with pytest.raises(PresetError, match=r"numParams: expected 8 \(the plugin's parameter count\), found 3"):
        apply_preset_dawdreamer(synth, short, NEKOBI)
    chunk = write_fxp(Program(name="c", plugin_id=DNEK, chunk=b"abc"), tmp_path / "chunk.fxp")
    with pytest.raises(PresetError, match="plugin has no chunks"):
        apply_preset_dawdreamer(synth, chunk, NEKOBI)
    (tmp_path / "garbage.fxp").write_bytes(b"garbage" * 10)
    with pytest.raises(PresetError, match="chunkMagic"):
        apply_preset_dawdreamer(synth, tmp_path / "garbage.fxp", NEKOBI)
    assert [synth.get_parameter(i) for i in range(8)] == before  # nothing reached the plugin
    assert apply_preset_dawdreamer(synth, NEKOBI_BANK, NEKOBI).fx_magic == "FxBk"


@needs_nekobi
def test_random_programs_are_seeded_uniform_values() -> None:
    a = random_programs(NEKOBI, 50, seed=3)
    b = random_programs(NEKOBI, 50, seed=3)
    c = random_programs(NEKOBI, 50, seed=4)
    assert a == b and a != c
    values = np.array([p.params for p in a])
    assert values.shape == (50, 8) and values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.05
    expected = np.random.default_rng(3).random((50, 8), dtype=np.float32)
    np.testing.assert_array_equal(values, expected)
    assert all(p.plugin_id == DNEK for p in a)


# --------------------------------------------------------------------------- our JUCE plugin (VST2 and VST3)


def _our_preset(tmp_path: Path, **params: float) -> Path:
    bank = read_fxb(OURS_BANK)
    state = decode_juce_chunk(bank.chunk or b"")
    assert state is not None
    state.params.update(params)
    program = Program(name="ours", plugin_id=bank.plugin_id, chunk=encode_juce_chunk(state), num_params=5,
                      plugin_version=bank.plugin_version)
    return write_fxp(program, tmp_path / "ours.fxp")


def test_our_vst2_plugin_id_and_juce_chunk_in_dawdreamer(vst2_bundle: Path, tmp_path: Path) -> None:
    info = vst2_info(vst2_bundle)
    assert info["unique_id"] == read_fxb(OURS_BANK).plugin_id and info["program_chunks"]
    preset = _our_preset(tmp_path, input_gain=6.0, mix=50.0, dc_block=0.0)
    engine = daw.RenderEngine(48000, 512)
    proc = engine.make_plugin_processor("p", str(vst2_bundle))
    apply_preset_dawdreamer(proc, preset, vst2_bundle)
    assert proc.get_parameter(0) == pytest.approx(30 / 48, abs=1e-6)
    assert proc.get_parameter(2) == pytest.approx(0.5, abs=1e-6)
    assert proc.get_parameter(3) == 0.0
    saved = tmp_path / "saved.fxb"
    proc.save_state(str(saved))
    state = decode_juce_chunk(read_fxb(saved).chunk or b"")
    assert state is not None and state.params["input_gain"] == 6.0 and state.params["mix"] == 50.0
    assert read_fxb(saved).plugin_id == info["unique_id"]


def test_juce_chunk_into_vst3_in_dawdreamer_sets_parameters(plugin_bundles: dict[str, Path], tmp_path: Path) -> None:
    vst3 = plugin_bundles["vst3"]
    engine = daw.RenderEngine(48000, 512)
    proc = engine.make_plugin_processor("p", str(vst3))
    apply_preset_dawdreamer(proc, _our_preset(tmp_path, input_gain=6.0, output_gain=-12.0, mix=50.0, dc_block=0.0),
                            vst3)
    assert [proc.get_parameter(i) for i in range(4)] == pytest.approx([30 / 48, 12 / 48, 0.5, 0.0], abs=1e-6)
    fxck = write_fxp(Program(name="p", plugin_id=1, params=[0.25, 0.75, 0.1, 1.0, 0.0]), tmp_path / "p.fxp")
    apply_preset_dawdreamer(proc, fxck, vst3)
    assert [proc.get_parameter(i) for i in range(5)] == pytest.approx([0.25, 0.75, 0.1, 1.0, 0.0], abs=1e-6)
    bad = _our_preset(tmp_path, no_such_param=1.0)
    with pytest.raises(PresetError, match="parameter id 'no_such_param' is not a parameter"):
        apply_preset_dawdreamer(proc, bad, vst3)
    short = write_fxp(Program(name="s", plugin_id=1, params=[0.5]), tmp_path / "s.fxp")
    with pytest.raises(PresetError, match="numParams: expected 5"):
        apply_preset_dawdreamer(proc, short, vst3)
    foreign = write_fxp(Program(name="f", plugin_id=1, chunk=b"\x01\x02opaque"), tmp_path / "f.fxp")
    with pytest.raises(PresetError, match="opaque chunk only the VST2 plugin can read"):
        apply_preset_dawdreamer(proc, foreign, vst3)


def test_presets_into_vst3_in_pedalboard(plugin_bundles: dict[str, Path], tmp_path: Path) -> None:
    pedalboard = pytest.importorskip("pedalboard")
    plugin = pedalboard.load_plugin(str(plugin_bundles["vst3"]))
    apply_preset_pedalboard(plugin, _our_preset(tmp_path, input_gain=6.0, mix=50.0, dc_block=0.0))
    assert plugin.input_gain_db == pytest.approx(6.0) and plugin.mix == pytest.approx(50.0)
    assert not bool(plugin.dc_block) and plugin.output_gain_db == pytest.approx(0.0)
    fxck = write_fxp(Program(name="p", plugin_id=1, params=[0.25, 0.75, 0.1, 1.0, 0.0]), tmp_path / "p.fxp")
    apply_preset_pedalboard(plugin, fxck)
    raw = [p.raw_value for p in plugin.parameters.values()]
    assert raw == pytest.approx([0.25, 0.75, 0.1, 1.0, 0.0], abs=1e-6)
    assert plugin.input_gain_db == pytest.approx(-12.0)
    with pytest.raises(PresetError, match="parameter id 'nope' is not a parameter"):
        apply_preset_pedalboard(plugin, _our_preset(tmp_path, nope=1.0))
    with pytest.raises(PresetError, match="numParams: expected 5"):
        apply_preset_pedalboard(plugin, write_fxp(Program(name="s", plugin_id=1, params=[0.5]), tmp_path / "s.fxp"))
    foreign = write_fxp(Program(name="f", plugin_id=1, chunk=b"\x01\x02opaque"), tmp_path / "f.fxp")
    with pytest.raises(PresetError, match="opaque chunk"):
        apply_preset_pedalboard(plugin, foreign)
    xml = b'<Other><PARAM id="mix" value="1.0"/></Other>'
    other = write_fxp(Program(name="o", plugin_id=1, chunk=b"VC2!" + struct.pack("<I", len(xml)) + xml + b"\0"),
                      tmp_path / "o.fxp")
    with pytest.raises(PresetError, match="root element: expected 'NeuralSynthEffect'"):
        apply_preset_pedalboard(plugin, other)


# --------------------------------------------------------------------------- command line


def _cli(argv: list[str]) -> int:
    """Through ``neuralsynth.cli.main``."""
    from neuralsynth.cli import main

    return main(argv)


@needs_nekobi
def test_cli_show_to_json_from_json_random(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["preset", "random", str(NEKOBI), "--count", "2", "--seed", "5", "--out", str(tmp_path / "r")]) == 0
    made = sorted((tmp_path / "r").glob("*.fxp"))
    assert len(made) == 2 and capsys.readouterr().out.split() == [str(p) for p in made]

    assert _cli(["preset", "show", str(made[0]), "--plugin", str(NEKOBI)]) == 0
    out = capsys.readouterr().out
    assert "program (FxCk)" in out and "'DNek'" in out and "Cutoff" in out and "%" in out

    assert _cli(["preset", "show", str(OURS_BANK), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chunk"]["root"] == "NeuralSynthEffect"

    out_json = tmp_path / "n.json"
    assert _cli(["preset", "to-json", str(NEKOBI_BANK), str(out_json), "--plugin", str(NEKOBI)]) == 0
    doc = json.loads(out_json.read_text())
    assert doc["programs"][0]["params"][2]["name"] == "Cutoff" and doc["programs"][0]["params"][2]["unit"] == "%"
    assert _cli(["preset", "from-json", str(out_json), str(tmp_path / "n.fxb")]) == 0
    assert (tmp_path / "n.fxb").read_bytes() == NEKOBI_BANK.read_bytes()
    capsys.readouterr()

    assert _cli(["preset", "from-json", str(out_json), str(tmp_path / "n.fxp")]) == 2
    assert "the JSON holds a bank: write it to a .fxb file" in capsys.readouterr().err
    assert _cli(["preset", "show", str(made[0]), "--plugin", "/usr/lib/vst/MVerb-vst.so"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralsynth: error: ") and "expected 'MVrb'" in err and "found 'DNek'" in err
    (tmp_path / "bad.json").write_text('{"type": "vst2-program", "plugin_id": "DNek", "params": [{"value": "x"}]}')
    assert _cli(["preset", "from-json", str(tmp_path / "bad.json"), str(tmp_path / "x.fxp")]) == 2
    assert "params[0].value: expected int or float" in capsys.readouterr().err
    (tmp_path / "bad.fxp").write_bytes(b"CcnK")
    assert _cli(["preset", "show", str(tmp_path / "bad.fxp")]) == 2
    assert "bad.fxp: byteSize: truncated" in capsys.readouterr().err
