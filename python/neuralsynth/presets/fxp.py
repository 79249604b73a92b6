"""Read and write VST2 preset files: ``.fxp`` programs and ``.fxb`` banks.

Every field is big-endian. A file is one chunk::

    offset  size  field
    0       4     chunkMagic    b"CcnK"
    4       4     byteSize      int32: bytes after this field (0 = not filled in; JUCE hosts write 0)
    8       4     fxMagic       b"FxCk" | b"FPCh" (program)   b"FxBk" | b"FBCh" (bank)
    12      4     version       1 (banks: 2 adds currentProgram)
    16      4     fxID          the plugin's unique id (four characters, e.g. b"DNek")
    20      4     fxVersion     the plugin's version

A program (``.fxp``) then has::

    24      4     numParams     int32
    28      28    prgName       ASCII, NUL-terminated
    56      ...   FxCk: numParams float32 values (normalized 0..1)
                  FPCh: int32 chunkSize, then chunkSize bytes of plugin-defined data

A bank (``.fxb``) then has::

    24      4     numPrograms   int32
    28      128   future        zeros; in version 2 banks the first 4 bytes are currentProgram (int32)
    156     ...   FxBk: numPrograms FxCk programs, each a whole program chunk as above
                  FBCh: int32 chunkSize, then chunkSize bytes of plugin-defined data

Parsing works on a ``bytes`` object with a bounds check before every read, so a bad size can
neither read past the data nor allocate from an unchecked number. Anything that does not fit
raises :class:`PresetError`, naming the file, the field, what was expected and what was found.

Round trips are exact: ``program_to_bytes(program_from_bytes(b)) == b``. The parsed objects
keep what is needed for that: the raw 28-byte name field (padding after the NUL), a byteSize
of 0, the bank's reserved bytes. Policies: data after the end of the preset is an error; a
byteSize other than 0 must match the data exactly; non-finite parameter values (NaN, inf) are
rejected on read and on write; names written from a ``str`` must be ASCII and at most 27
characters (names read from a file keep their bytes, whatever they are).
"""

from __future__ import annotations

import math
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import NeuralSynthError

__all__ = [
    "PresetError",
    "Program",
    "Bank",
    "program_from_bytes",
    "program_to_bytes",
    "bank_from_bytes",
    "bank_to_bytes",
    "preset_from_bytes",
    "preset_to_bytes",
    "read_preset",
    "read_fxp",
    "read_fxb",
    "write_fxp",
    "write_fxb",
    "write_preset",
    "write_bytes_atomic",
    "fourcc",
    "parse_plugin_id",
]

CHUNK_MAGIC = b"CcnK"
PROGRAM_PARAMS = b"FxCk"
PROGRAM_CHUNK = b"FPCh"
BANK_PROGRAMS = b"FxBk"
BANK_CHUNK = b"FBCh"
PROGRAM_MAGICS = (PROGRAM_PARAMS, PROGRAM_CHUNK)
BANK_MAGICS = (BANK_PROGRAMS, BANK_CHUNK)

PROGRAM_HEADER = 56  # bytes up to the first parameter / the chunk size
BANK_HEADER = 156
NAME_SIZE = 28
FUTURE_SIZE = 128
MAX_NAME_CHARS = NAME_SIZE - 1
INT32_MAX = 0x7FFFFFFF


class PresetError(NeuralSynthError, ValueError):
    """A preset file is malformed, or a preset does not fit a plugin.

    The message names the file, the field, and what was expected versus found.
    """


def fourcc(value: int) -> str:
    """``0x444E656B`` -> ``'DNek'``; ids that are not four printable ASCII characters as hex."""
    raw = (value & 0xFFFFFFFF).to_bytes(4, "big")
    if all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return f"0x{value & 0xFFFFFFFF:08X}"


def parse_plugin_id(value: int | str | bytes) -> int:
    """A plugin id as an unsigned 32-bit int, from an int, four characters (``"DNek"``) or hex/decimal text."""
    if isinstance(value, bool):
        raise PresetError(f"plugin id: expected an int or four characters, found {value!r}")
    if isinstance(value, int):
        if not -(2**31) <= value <= 0xFFFFFFFF:
            raise PresetError(f"plugin id: expected a 32-bit value, found {value}")
        return value & 0xFFFFFFFF
    if isinstance(value, bytes):
        if len(value) != 4:
            raise PresetError(f"plugin id: expected 4 bytes, found {len(value)}")
        return int.from_bytes(value, "big")
    text = str(value)
    if len(text) == 4 and text.isascii():
        return int.from_bytes(text.encode("ascii"), "big")
    try:
        number = int(text, 0)
    except ValueError:
        raise PresetError(
            f"plugin id: expected four ASCII characters (e.g. 'DNek') or a number, found {text!r}"
        ) from None
    return parse_plugin_id(number)


# --------------------------------------------------------------------------- data


@dataclass
class Program:
    """One VST2 program (``.fxp``): a parameter list (``FxCk``) or an opaque chunk (``FPCh``).

    Exactly one of ``params`` (normalized float32 values) and ``chunk`` is set.
    ``name_raw`` and ``byte_size`` hold what was read, so that writing it back is byte-exact;
    leave them ``None`` when building a program yourself.
    """

    name: str
    plugin_id: int
    params: list[float] | None = None
    chunk: bytes | None = None
    plugin_version: int = 1
    format_version: int = 1
    num_params: int | None = None  # FPCh only: the numParams field (FxCk: len(params))
    name_raw: bytes | None = None
    byte_size: int | None = None

    def __post_init__(self) -> None:
        if (self.params is None) == (self.chunk is None):
            raise PresetError("Program: give exactly one of params (FxCk) and chunk (FPCh)")

    @property
    def is_chunk(self) -> bool:
        return self.chunk is not None

    @property
    def fx_magic(self) -> str:
        return "FPCh" if self.is_chunk else "FxCk"


@dataclass
class Bank:
    """A VST2 bank (``.fxb``): a list of ``FxCk`` programs (``FxBk``) or an opaque chunk (``FBCh``).

    ``current_program`` exists in version 2 banks only (``None`` in version 1). ``future`` is the
    reserved area as read (124 bytes in version 2, 128 in version 1); ``None`` writes zeros.
    """

    plugin_id: int
    programs: list[Program] | None = None
    chunk: bytes | None = None
    plugin_version: int = 1
    format_version: int = 2
    current_program: int | None = 0
    num_programs: int | None = None  # FBCh only: the numPrograms field (FxBk: len(programs))
    future: bytes | None = None
    byte_size: int | None = None

    def __post_init__(self) -> None:
        if (self.programs is None) == (self.chunk is None):
            raise PresetError("Bank: give exactly one of programs (FxBk) and chunk (FBCh)")

    @property
    def is_chunk(self) -> bool:
        return self.chunk is not None

    @property
    def fx_magic(self) -> str:
        return "FBCh" if self.is_chunk else "FxBk"


# --------------------------------------------------------------------------- reading


class _Reader:
    """Bounds-checked big-endian reads from ``data[pos:end]``.

    While a byteSize narrows ``end``, ``size_bound`` remembers it, so that a read that runs
    past the byteSize but not past the data blames byteSize rather than the field being read.
    """

    def __init__(self, data: bytes, source: str, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.source = source
        self.pos = pos
        self.end = len(data) if end is None else end
        self.size_bound: tuple[int, int, str, int] | None = None  # (start, outer end, field, byteSize)

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def error(self, field: str, message: str) -> PresetError:
        return PresetError(f"{self.source}: {field}: {message}")

    def short(self, field: str, needed: int, message: str) -> PresetError:
        """The error for a read of ``needed`` bytes that does not fit before ``end``."""
        if self.size_bound is not None:
            start, outer_end, size_field, byte_size = self.size_bound
            if self.pos + needed <= outer_end:
                return self.error(
                    size_field,
                    f"says {byte_size} bytes follow it, but the fields need at least "
                    f"{self.pos + needed - start - 8} ({field} runs past the end it gives)",
                )
        return self.error(field, message)

    def take(self, n: int, field: str) -> bytes:
        if n < 0 or n > self.remaining:
            raise self.short(
                field, n, f"truncated: expected {n} bytes at offset {self.pos}, found {max(self.remaining, 0)}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u32(self, field: str) -> int:
        return struct.unpack(">I", self.take(4, field))[0]

    def i32(self, field: str) -> int:
        return struct.unpack(">i", self.take(4, field))[0]

    def count(self, field: str, item_size: int, what: str, reserved: int = 0) -> int:
        """A non-negative int32 count of ``item_size``-byte items that must fit in what is left."""
        n = self.i32(field)
        if n < 0:
            raise self.error(field, f"expected a count >= 0, found {n}")
        room = self.remaining - reserved
        if n * item_size > room:
            raise self.short(
                field,
                reserved + n * item_size,
                f"{n} {what} need at least {n * item_size} bytes, but only {max(room, 0)} remain",
            )
        return n


def _source_name(source: str | os.PathLike | None) -> str:
    return "<bytes>" if source is None else str(source)


def _read_head(r: _Reader, magics: tuple[bytes, ...], what: str, field_prefix: str = "") -> tuple[bytes, int]:
    """chunkMagic, byteSize, fxMagic. Narrows ``r.end`` to byteSize when it is set; returns (fxMagic, byteSize)."""
    magic = r.take(4, field_prefix + "chunkMagic")
    if magic != CHUNK_MAGIC:
        raise r.error(field_prefix + "chunkMagic", f"expected b'CcnK' (a VST2 {what}), found {magic!r}")
    size_field = field_prefix + "byteSize"
    byte_size = r.i32(size_field)
    if byte_size < 0:
        raise r.error(size_field, f"expected a size >= 0, found {byte_size}")
    if byte_size != 0:
        if byte_size > r.remaining:
            raise r.error(
                size_field,
                f"says {byte_size} bytes follow it, but only {r.remaining} remain (truncated file?)",
            )
        r.size_bound = (r.pos - 8, r.end, size_field, byte_size)
        r.end = r.pos + byte_size
    fx_magic = r.take(4, field_prefix + "fxMagic")
    if fx_magic not in magics:
        expected = " or ".join(repr(m) for m in magics)
        hint = ""
        if fx_magic in BANK_MAGICS and magics != BANK_MAGICS:
            hint = " (that is a bank: read it as .fxb)"
        elif fx_magic in PROGRAM_MAGICS and magics == BANK_MAGICS:
            hint = " (that is a program: read it as .fxp)"
        raise r.error(field_prefix + "fxMagic", f"expected {expected} for a {what}, found {fx_magic!r}{hint}")
    return fx_magic, byte_size


def _check_end(r: _Reader, start: int, outer_end: int, byte_size: int, field_prefix: str, what: str,
               nested: bool, outer_bound: tuple[int, int, str, int] | None) -> None:
    """After the fields: the preset must end exactly where byteSize (or, at top level, the data) says."""
    used = r.pos - start
    if byte_size != 0 and r.pos != r.end:
        raise r.error(
            field_prefix + "byteSize",
            f"expected {used - 8} (the {what}'s fields take {used} bytes) or 0, found {byte_size}",
        )
    if not nested and r.pos != outer_end:
        raise r.error(
            "end",
            f"expected the {what} to end at offset {r.pos}, found {outer_end - r.pos} more bytes after it",
        )
    r.end = outer_end
    r.size_bound = outer_bound


def f32_from_bits(bits: int) -> float:
    """The float32 with these IEEE-754 bits, as a Python float (NaN/inf included).

    Done with integer arithmetic: ``struct``'s float32 conversion goes through the FPU, and
    once a plugin built with -ffast-math is loaded in the process (flush-to-zero and
    denormals-are-zero set), subnormal float32 values read back as 0 and round trips break.
    """
    sign = -1.0 if bits & 0x80000000 else 1.0
    exponent = (bits >> 23) & 0xFF
    fraction = bits & 0x7FFFFF
    if exponent == 0xFF:
        return math.nan if fraction else sign * math.inf
    if exponent == 0:
        return math.copysign(math.ldexp(float(fraction), -149), sign)
    return sign * math.ldexp(float(fraction | 0x800000), exponent - 150)


def f32_to_bits(value: float) -> int:
    """IEEE-754 float32 bits of a finite Python float, rounded to nearest-even (integer arithmetic only).

    Raises OverflowError when the value rounds beyond the float32 range.
    """
    sign = 0x80000000 if math.copysign(1.0, value) < 0 else 0
    magnitude = abs(value)
    if magnitude == 0.0:
        return sign
    _, exp2 = math.frexp(magnitude)  # magnitude = m * 2**exp2, 0.5 <= m < 1
    if exp2 - 1 < -126:  # subnormal in float32: a multiple of 2**-149
        return sign | round(math.ldexp(magnitude, 149))  # may round up to the smallest normal: same bits
    significand = round(math.ldexp(magnitude, 24 - exp2))  # 2**23 <= significand <= 2**24
    bits = ((exp2 - 1 + 127) << 23) + significand - 0x800000
    if bits >= 0x7F800000:
        raise OverflowError("value too large for a float32")
    return sign | bits


def _read_floats(r: _Reader, n: int, field: str) -> list[float]:
    raw = r.take(4 * n, field)
    values = [f32_from_bits(b) for b in struct.unpack(f">{n}I", raw)]
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise r.error(f"{field}[{i}]", f"expected a finite float, found {v}")
    return values


def _read_chunk(r: _Reader, field: str) -> bytes:
    size = r.i32(field + "Size")
    if size < 0:
        raise r.error(field + "Size", f"expected a size >= 0, found {size}")
    if size > r.remaining:
        raise r.short(field + "Size", size, f"says {size} bytes, but only {r.remaining} remain (truncated file?)")
    return r.take(size, field)


def _parse_program(r: _Reader, field_prefix: str = "", allowed: tuple[bytes, ...] = PROGRAM_MAGICS,
                   nested: bool = False) -> Program:
    outer_end, start, outer_bound = r.end, r.pos, r.size_bound
    fx_magic, byte_size = _read_head(r, allowed, "program (.fxp)", field_prefix)
    version = r.u32(field_prefix + "version")
    fx_id = r.u32(field_prefix + "fxID")
    fx_version = r.u32(field_prefix + "fxVersion")
    if fx_magic == PROGRAM_PARAMS:
        num_params = r.count(field_prefix + "numParams", 4, "parameters")
    else:
        num_params = r.i32(field_prefix + "numParams")
        if num_params < 0:
            raise r.error(field_prefix + "numParams", f"expected a count >= 0, found {num_params}")
    name_raw = r.take(NAME_SIZE, field_prefix + "prgName")
    name = name_raw.split(b"\0", 1)[0].decode("latin-1")
    if fx_magic == PROGRAM_PARAMS:
        params = _read_floats(r, num_params, field_prefix + "params")
        chunk = None
    else:
        params = None
        chunk = _read_chunk(r, field_prefix + "chunk")
    _check_end(r, start, outer_end, byte_size, field_prefix, "program", nested, outer_bound)
    return Program(
        name=name,
        plugin_id=fx_id,
        params=params,
        chunk=chunk,
        plugin_version=fx_version,
        format_version=version,
        num_params=num_params if chunk is not None else None,
        name_raw=name_raw,
        byte_size=byte_size,
    )


def _parse_bank(r: _Reader) -> Bank:
    outer_end, start, outer_bound = r.end, r.pos, r.size_bound
    fx_magic, byte_size = _read_head(r, BANK_MAGICS, "bank (.fxb)")
    version = r.u32("version")
    fx_id = r.u32("fxID")
    fx_version = r.u32("fxVersion")
    if fx_magic == BANK_PROGRAMS:
        # Each program is at least a program header; the reserved area comes first.
        num_programs = r.count("numPrograms", PROGRAM_HEADER, "programs", reserved=FUTURE_SIZE)
    else:
        num_programs = r.i32("numPrograms")
        if num_programs < 0:
            raise r.error("numPrograms", f"expected a count >= 0, found {num_programs}")
    current: int | None = None
    if version >= 2:
        current = r.i32("currentProgram")
        future = r.take(FUTURE_SIZE - 4, "future")
    else:
        future = r.take(FUTURE_SIZE, "future")
    programs: list[Program] | None = None
    chunk: bytes | None = None
    if fx_magic == BANK_PROGRAMS:
        programs = []
        for i in range(num_programs):
            programs.append(_parse_program(r, f"program {i}: ", (PROGRAM_PARAMS,), nested=True))
    else:
        chunk = _read_chunk(r, "chunk")
    _check_end(r, start, outer_end, byte_size, "", "bank", False, outer_bound)
    return Bank(
        plugin_id=fx_id,
        programs=programs,
        chunk=chunk,
        plugin_version=fx_version,
        format_version=version,
        current_program=current,
        num_programs=num_programs if chunk is not None else None,
        future=future,
        byte_size=byte_size,
    )


def program_from_bytes(data: bytes, source: str | os.PathLike | None = None) -> Program:
    """Parse a whole ``.fxp`` file held in ``data``."""
    return _parse_program(_Reader(bytes(data), _source_name(source)))


def bank_from_bytes(data: bytes, source: str | os.PathLike | None = None) -> Bank:
    """Parse a whole ``.fxb`` file held in ``data``."""
    return _parse_bank(_Reader(bytes(data), _source_name(source)))


def preset_from_bytes(data: bytes, source: str | os.PathLike | None = None) -> Program | Bank:
    """Parse a ``.fxp`` or ``.fxb`` file, telling them apart by fxMagic (not by the file name)."""
    data = bytes(data)
    name = _source_name(source)
    if len(data) >= 12 and data[:4] == CHUNK_MAGIC and data[8:12] in BANK_MAGICS:
        return _parse_bank(_Reader(data, name))
    if len(data) >= 12 and data[:4] == CHUNK_MAGIC and data[8:12] not in PROGRAM_MAGICS:
        raise PresetError(
            f"{name}: fxMagic: expected b'FxCk' or b'FPCh' (.fxp) or b'FxBk' or b'FBCh' (.fxb), found {data[8:12]!r}"
        )
    return _parse_program(_Reader(data, name))


def _read_bytes(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise PresetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PresetError(f"{path}: is a directory, not a preset file") from None
    except OSError as e:
        raise PresetError(f"{path}: cannot read it: {e.strerror or e}") from None


def read_preset(path: str | os.PathLike) -> Program | Bank:
    """A ``.fxp`` program or ``.fxb`` bank from a file (the content decides which)."""
    return preset_from_bytes(_read_bytes(path), path)


def read_fxp(path: str | os.PathLike) -> Program:
    """A ``.fxp`` program; a bank raises :class:`PresetError`."""
    return program_from_bytes(_read_bytes(path), path)


def read_fxb(path: str | os.PathLike) -> Bank:
    """A ``.fxb`` bank; a program raises :class:`PresetError`."""
    return bank_from_bytes(_read_bytes(path), path)


# --------------------------------------------------------------------------- writing


def _u32(value: int, field: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PresetError(f"{field}: expected an int, found {value!r}")
    if not -(2**31) <= value <= 0xFFFFFFFF:
        raise PresetError(f"{field}: expected a 32-bit value, found {value}")
    return struct.pack(">I", value & 0xFFFFFFFF)


def _i32(value: int, field: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PresetError(f"{field}: expected an int, found {value!r}")
    if not -(2**31) <= value <= INT32_MAX:
        raise PresetError(f"{field}: expected a signed 32-bit value, found {value}")
    return struct.pack(">i", value)


def _name_field(program: Program, where: str) -> bytes:
    raw = program.name_raw
    if raw is not None and len(raw) == NAME_SIZE and raw.split(b"\0", 1)[0].decode("latin-1") == program.name:
        return raw
    name = program.name
    if not isinstance(name, str):
        raise PresetError(f"{where}prgName: expected a str, found {name!r}")
    if not name.isascii():
        raise PresetError(f"{where}prgName: expected ASCII characters only, found {name!r}")
    if "\0" in name:
        raise PresetError(f"{where}prgName: expected no NUL characters, found {name!r}")
    if len(name) > MAX_NAME_CHARS:
        raise PresetError(f"{where}prgName: expected at most {MAX_NAME_CHARS} characters, found {len(name)} ({name!r})")
    return name.encode("ascii").ljust(NAME_SIZE, b"\0")


def _float_block(values: list[float], field: str) -> bytes:
    out = bytearray()
    for i, v in enumerate(values):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise PresetError(f"{field}[{i}]: expected a number, found {v!r}") from None
        if not math.isfinite(f):
            raise PresetError(f"{field}[{i}]: expected a finite float, found {f}")
        try:
            out += struct.pack(">I", f32_to_bits(f))
        except OverflowError:
            raise PresetError(f"{field}[{i}]: expected a value that fits a float32, found {f}") from None
    return bytes(out)


def _chunk_block(chunk: bytes, field: str) -> bytes:
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise PresetError(f"{field}: expected bytes, found {type(chunk).__name__}")
    chunk = bytes(chunk)
    if len(chunk) > INT32_MAX - BANK_HEADER - 4:
        raise PresetError(f"{field}: expected at most {INT32_MAX - BANK_HEADER - 4} bytes, found {len(chunk)}")
    return struct.pack(">i", len(chunk)) + chunk


def _byte_size(stored: int | None, body_len: int) -> bytes:
    """byteSize: 0 when the preset was read with 0 (JUCE writes that), else the real size."""
    if body_len > INT32_MAX:
        raise PresetError(f"byteSize: the preset is {body_len} bytes, more than an int32 can hold")
    return struct.pack(">i", 0 if stored == 0 else body_len)


def _program_bytes(program: Program, where: str = "") -> bytes:
    if not isinstance(program, Program):
        raise PresetError(f"{where}expected a Program, found {type(program).__name__}")
    if program.params is not None:
        magic = PROGRAM_PARAMS
        num = len(program.params)
        tail = _float_block(list(program.params), where + "params")
    else:
        magic = PROGRAM_CHUNK
        num = program.num_params if program.num_params is not None else 0
        if isinstance(num, int) and num < 0:
            raise PresetError(f"{where}numParams: expected a count >= 0, found {num}")
        assert program.chunk is not None
        tail = _chunk_block(program.chunk, where + "chunk")
    body = (
        magic
        + _u32(program.format_version, where + "version")
        + _u32(program.plugin_id, where + "fxID")
        + _u32(program.plugin_version, where + "fxVersion")
        + _i32(num, where + "numParams")
        + _name_field(program, where)
        + tail
    )
    return CHUNK_MAGIC + _byte_size(program.byte_size, len(body)) + body


def program_to_bytes(program: Program) -> bytes:
    """The ``.fxp`` bytes of a program."""
    return _program_bytes(program)


def bank_to_bytes(bank: Bank) -> bytes:
    """The ``.fxb`` bytes of a bank."""
    if not isinstance(bank, Bank):
        raise PresetError(f"expected a Bank, found {type(bank).__name__}")
    v2 = bank.format_version >= 2
    future_size = FUTURE_SIZE - 4 if v2 else FUTURE_SIZE
    future = bank.future if bank.future is not None else bytes(future_size)
    if len(future) != future_size:
        raise PresetError(
            f"future: expected {future_size} bytes for a version {bank.format_version} bank, found {len(future)}"
        )
    reserved = (_i32(bank.current_program or 0, "currentProgram") if v2 else b"") + bytes(future)
    if bank.programs is not None:
        magic = BANK_PROGRAMS
        num = len(bank.programs)
        parts = []
        for i, p in enumerate(bank.programs):
            if isinstance(p, Program) and p.params is None:
                raise PresetError(f"program {i}: an FxBk bank holds FxCk (parameter list) programs only, found FPCh")
            parts.append(_program_bytes(p, f"program {i}: "))
        tail = b"".join(parts)
    else:
        magic = BANK_CHUNK
        num = bank.num_programs if bank.num_programs is not None else 1
        if isinstance(num, int) and num < 0:
            raise PresetError(f"numPrograms: expected a count >= 0, found {num}")
        assert bank.chunk is not None
        tail = _chunk_block(bank.chunk, "chunk")
    body = (
        magic
        + _u32(bank.format_version, "version")
        + _u32(bank.plugin_id, "fxID")
        + _u32(bank.plugin_version, "fxVersion")
        + _i32(num, "numPrograms")
        + reserved
        + tail
    )
    return CHUNK_MAGIC + _byte_size(bank.byte_size, len(body)) + body


def preset_to_bytes(preset: Program | Bank) -> bytes:
    if isinstance(preset, Bank):
        return bank_to_bytes(preset)
    return program_to_bytes(preset)


def write_bytes_atomic(data: bytes, path: str | os.PathLike) -> Path:
    """Write ``data`` to a temporary file next to ``path``, then rename it over ``path``.

    The file gets the usual permissions (0666 minus the umask), not ``mkstemp``'s 0600.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise PresetError(f"{path}: the folder {parent} does not exist")
    for _ in range(100):
        tmp = parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random names taken
        raise PresetError(f"{path}: could not create a temporary file next to it")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_fxp(program: Program, path: str | os.PathLike) -> Path:
    """Write a ``.fxp`` file atomically (temporary file, then rename)."""
    return write_bytes_atomic(program_to_bytes(program), path)


def write_fxb(bank: Bank, path: str | os.PathLike) -> Path:
    """Write a ``.fxb`` file atomically (temporary file, then rename)."""
    return write_bytes_atomic(bank_to_bytes(bank), path)


def write_preset(preset: Program | Bank, path: str | os.PathLike) -> Path:
    return write_bytes_atomic(preset_to_bytes(preset), path)
