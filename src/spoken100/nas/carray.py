"""The firmware's view of a model: its ``.tflite`` bytes as a C array, and the op resolver it needs.

:func:`export_c_array` / :func:`read_c_array` write and read ``model_data.cc`` / ``model_data.h``
(what ``xxd -i`` writes, plus 16-byte alignment and a length constant); :func:`op_resolver_code`
gives the ``MicroMutableOpResolver`` lines for exactly a model's ops.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from spoken100.data import atomic
from spoken100.nas.tflite import model_ops

#: Byte alignment of the exported model array. TFLM reads the flatbuffer in place; 16 bytes is
#: what TFLM's own generated model arrays use (``alignas(16)``).
C_ARRAY_ALIGNMENT = 16


#: Bytes per line of the exported C array (as ``xxd -i``).
C_ARRAY_BYTES_PER_LINE = 12


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


#: ``MicroMutableOpResolver`` method names whose spelling the generic rule of :func:`op_resolver_code` misses.
_RESOLVER_EXCEPTIONS = {"PADV2": "AddPadV2", "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd", "ADD_N": "AddAddN"}


def resolver_method(op: str) -> str:
    if op in _RESOLVER_EXCEPTIONS:
        return _RESOLVER_EXCEPTIONS[op]
    return "Add" + "".join(part if part[:1].isdigit() else part.capitalize() for part in op.split("_"))


def op_resolver_code(ops: Sequence[str] | bytes, variable: str = "resolver") -> str:
    """C++ lines that register exactly the model's ops with a ``tflite::MicroMutableOpResolver``.

    ops: op names (e.g. :attr:`Deployment.ops`) or the ``.tflite`` bytes. A resolver holding only
    the needed ops keeps the other kernels out of the firmware's flash.
    """
    if isinstance(ops, (bytes, bytearray)):
        ops = model_ops(bytes(ops))
    ops = sorted(set(ops))
    lines = [f"static tflite::MicroMutableOpResolver<{len(ops)}> {variable};"]
    lines += [f"{variable}.{resolver_method(op)}();" for op in ops]
    return "\n".join(lines)


# ---- C array export --------------------------------------------------------------------------
def c_array_source(data: bytes, name: str = "g_model", header: str = "model_data.h",
                   alignment: int = C_ARRAY_ALIGNMENT) -> str:  # fmt: skip
    """The ``.cc`` text of :func:`export_c_array` (the bytes as an aligned ``const unsigned char`` array)."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a C identifier")
    data = bytes(data)
    body = ",\n".join(
        "  " + ", ".join(f"0x{b:02x}" for b in data[i : i + C_ARRAY_BYTES_PER_LINE])
        for i in range(0, len(data), C_ARRAY_BYTES_PER_LINE)
    )
    return (
        f"// {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}.\n"
        "// Written by spoken100.nas.deploy.export_c_array (like `xxd -i`, with alignment).\n"
        f'#include "{header}"\n\n'
        f"alignas({alignment}) const unsigned char {name}[] = {{\n{body}\n}};\n"
        f"const unsigned int {name}_len = {len(data)};\n"
    )


def c_array_header(data: bytes, name: str = "g_model", header: str = "model_data.h") -> str:
    """The ``.h`` text of :func:`export_c_array`: the array's and its length's declarations."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a C identifier")
    guard = re.sub(r"[^A-Za-z0-9]", "_", header).upper() + "_"
    return (
        f"// {len(bytes(data))} bytes. Written by spoken100.nas.deploy.export_c_array.\n"
        f"#ifndef {guard}\n#define {guard}\n\n"
        f"extern const unsigned char {name}[];\n"
        f"extern const unsigned int {name}_len;\n\n"
        f"#endif  // {guard}\n"
    )


def export_c_array(
    model_bytes: bytes, out_dir: str | Path, name: str = "g_model", stem: str = "model_data"
) -> tuple[Path, Path]:
    """Write ``<stem>.cc`` and ``<stem>.h``: the bytes as a C array for the firmware, as ``xxd -i`` would.

    The ``.cc`` defines ``alignas(16) const unsigned char <name>[]`` (TFLM reads the flatbuffer in
    place from flash, so the array must be aligned) and ``const unsigned int <name>_len``; the
    ``.h`` declares both. Both files are written atomically.

    model_bytes: the ``.tflite`` bytes (or any bytes: e.g. an int8 test input, with ``name="g_clip",
        stem="clip_data"``).
    out_dir: created if missing.
    name: the C identifier of the array.

    Returns ``(cc_path, h_path)``. :func:`read_c_array` reads the bytes back.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cc, h = out / f"{stem}.cc", out / f"{stem}.h"
    atomic.write_text(h, c_array_header(model_bytes, name, h.name))
    atomic.write_text(cc, c_array_source(model_bytes, name, h.name))
    return cc, h


def read_c_array(cc_path: str | Path) -> bytes:
    """The bytes of a C array written by :func:`export_c_array` (or ``xxd -i``), checked against its length."""
    text = Path(cc_path).read_text()
    match = re.search(r"\[\]\s*=\s*\{(.*?)\};", text, flags=re.S)
    if match is None:
        raise ValueError(f"{cc_path}: no C array initialiser found")
    data = bytes(int(token, 16) for token in re.findall(r"0x([0-9a-fA-F]{2})", match.group(1)))
    length = re.search(r"_len\s*=\s*(\d+)\s*;", text)
    if length is not None and int(length.group(1)) != len(data):
        raise ValueError(f"{cc_path}: the length constant says {length.group(1)} bytes, the array holds {len(data)}")
    return data
