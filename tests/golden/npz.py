"""Writing golden .npz files reproducibly (shared by the make_*golden.py scripts; never by attnviz)."""

import sys
import zipfile
from pathlib import Path

import numpy as np


def save_npz(arrays: dict[str, np.ndarray], path: Path, cast: dict[str, type] | None = None) -> None:
    """Like np.savez_compressed, but with fixed timestamps and key order: the same values, the same bytes.

    `cast` maps a dtype kind ("f", "i") to the type arrays of that kind are stored as. Object arrays,
    which would need pickle, stop the script.
    """
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            arr = np.asarray(arrays[key])
            if arr.dtype.kind not in "fbiU":
                sys.exit(f"{key}: dtype {arr.dtype} would need pickle")
            if cast and arr.dtype.kind in cast:
                arr = arr.astype(cast[arr.dtype.kind])
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as fh:
                np.lib.format.write_array(fh, arr.copy(order="C"), allow_pickle=False)
    tmp.replace(path)
