"""Run the TFLite Micro interpreter in a child process (used by :mod:`spoken100.nas.tflite`).

TFLite Micro aborts or segfaults the whole process on some errors (a too-small arena, a quantisation
multiplier out of range), so the parent sends the work here: an ``.npz`` on stdin with ``model``
(uint8 bytes), ``arena_size`` and optionally ``x`` (int8 examples, already quantised). The reply is
an ``.npz`` on stdout with ``outputs`` (raw int8) and the allocation report on stderr. Only numpy
and ``tflite_micro`` are imported: no TensorFlow.
"""

from __future__ import annotations

import io
import sys

import numpy as np


def main() -> None:
    from tflite_micro.python.tflite_micro import runtime

    payload = np.load(io.BytesIO(sys.stdin.buffer.read()))
    model = payload["model"].tobytes()
    interp = runtime.Interpreter.from_bytes(model, arena_size=int(payload["arena_size"]))
    details = interp.get_input_details(0)
    shape = tuple(details["shape"])
    x = payload["x"] if "x" in payload.files else np.zeros((1, *shape[1:]), dtype=details["dtype"])
    outputs = []
    for example in x:
        interp.set_input(np.asarray(example, dtype=details["dtype"]).reshape(shape), 0)
        interp.invoke()
        outputs.append(np.array(interp.get_output(0)).reshape(-1))
    sys.stderr.flush()
    interp.print_allocations()
    buffer = io.BytesIO()
    np.savez(buffer, outputs=np.stack(outputs))
    sys.stdout.buffer.write(buffer.getvalue())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
