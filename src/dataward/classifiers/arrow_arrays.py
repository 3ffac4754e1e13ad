"""Arrow arrays to numpy and back through their buffers.

``pa.array(...)`` and ``Array.to_numpy()`` first look for pandas, importing it (about
0.15 s of CPU) in every worker process the scan forks, for arrays that are plain bits
and integers here. These helpers read and write the buffers directly (arrays without
nulls: every array handled here has none)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa


def bools(arr: pa.Array) -> np.ndarray:
    """A boolean array (no nulls) as a numpy array of bool."""
    bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
    out: np.ndarray = np.unpackbits(bits, bitorder="little", count=arr.offset + len(arr))
    return out[arr.offset:].astype(bool)


def ints(arr: pa.Array) -> np.ndarray:
    """An int32 array (no nulls), such as string lengths, as numpy."""
    out: np.ndarray = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    return out[arr.offset:arr.offset + len(arr)]


def mask(values: np.ndarray) -> pa.Array:
    """A numpy bool array as an Arrow boolean array (for ``filter``)."""
    packed = np.packbits(values.astype(bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])


def indices(values: np.ndarray) -> pa.Array:
    """Numpy integers as an Arrow int64 array (for ``take``)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def offsets(arr: pa.Array) -> np.ndarray:
    """Where each string of a string array starts in its data buffer, and where the last
    ends (``len(arr) + 1`` values)."""
    out: np.ndarray = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    return out[arr.offset:arr.offset + len(arr) + 1]


def strings(data: bytes, ends: np.ndarray) -> pa.Array:
    """A string array of ``data`` cut at ``ends`` (``len + 1`` offsets from 0)."""
    starts = np.ascontiguousarray(ends, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(starts) - 1,
                                 [None, pa.py_buffer(starts), pa.py_buffer(data)])


def joined(arr: pa.Array, lo: int, hi: int) -> str:
    """Strings ``lo`` to ``hi - 1`` of a string array, concatenated."""
    if hi <= lo:
        return ""
    at = offsets(arr)
    data = arr.buffers()[2]
    return bytes(memoryview(data)[at[lo]:at[hi]]).decode("utf-8")
