"""Writing figures to PNG, SVG or PDF: atomically, byte-reproducibly, PNGs encoded on a second thread
(`save_view`, `save_figure`, `save_stage_figures`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ...errors import InputError, OutputError
from ...files import FIGURE_FORMATS, atomic_write, check_suffix, ensure_dir, transaction
from ...trace import Trace
from . import png
from .checks import _check
from .gqa import gqa_figure
from .pipeline import stage_figure
from .rope import rope_figure

#: File formats save_figure writes, chosen by the path's extension.
FORMATS = FIGURE_FORMATS
#: (file name without extension, stage) written by save_stage_figures, in order.
STAGE_FILES = (
    ("00-pipeline", "pipeline"),
    ("01-embeddings", "embeddings"),
    ("02-q", "q"),
    ("03-k", "k"),
    ("04-v", "v"),
    ("05-scores", "scores"),
    ("06-scaled", "scaled"),
    ("07-softmax", "softmax"),
    ("08-output", "output"),
)

# metadata that would put dates or version strings into the file, dropped for identical bytes
_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None, "Creator": None},
    "svg": {"Date": None, "Creator": None},
}
# scoped to one savefig by rc_context, so neither a user's matplotlibrc nor the run changes the file
_SAVE_RC = {
    "svg.hashsalt": "attnviz",
    "svg.fonttype": "path",
    # Type 3: Type 42 would have fontTools subset NanumGothic, slower, logging "TSI0 NOT subset" to stderr
    "pdf.fonttype": 3,
    "savefig.bbox": "standard",
    "savefig.transparent": False,
}


def save_figure(trace: Trace, path: str | Path, *, dpi: int = 150, theme: str = "light", lang: str = "en",
                head: int = 0, precision: int = 2, stage: str = "pipeline") -> Path:
    """Write the pipeline figure (or one `stage`) to `path`; PNG, SVG or PDF by its extension.

    Written atomically (temp file + rename); the same call gives byte-identical files.
    """
    path = Path(path)
    _format_of(path)  # a bad name fails before any drawing
    _check_folder(path)
    return save_view(stage_figure(trace, stage, head=head, theme=theme, lang=lang, precision=precision), path,
                     dpi=dpi)


def save_view(fig: Figure, path: str | Path, *, dpi: float = 150) -> Path:
    """Write any figure of this module to `path`: PNG, SVG or PDF by its extension (anything else is
    an OutputError and writes nothing). Written atomically (temp file + rename); the same figure
    gives byte-identical files (no dates or versions in them)."""
    path = Path(path)
    fmt = _format_of(path)
    _check_folder(path)
    _save(fig, path, fmt, dpi)
    return path


#: (file name, figure) written after STAGE_FILES for the traces that have that stage.
EXTRA_FILES = (("09-rope", "rope"), ("10-gqa", "gqa"))


def _extra_figures(trace: Trace) -> list[tuple[str, str]]:
    """The stages of today's decoders this trace has: RoPE, fewer K/V heads than query heads."""
    info = trace.attention
    has = {"rope": info is not None and info.rope is not None,
           "gqa": info is not None and info.n_kv_heads != trace.n_heads}
    return [(name, stage) for name, stage in EXTRA_FILES if has[stage]]


def save_stage_figures(trace: Trace, out_dir: str | Path, *, fmt: str = "png", dpi: int = 150,
                       theme: str = "light", lang: str = "en", head: int = 0, precision: int = 2
                       ) -> list[Path]:
    """Write 00-pipeline, 01-embeddings, 02-q, 03-k, 04-v, 05-scores, 06-scaled, 07-softmax and
    08-output (`.fmt`) into `out_dir`, creating it if its parent folder exists; a trace with RoPE adds
    09-rope, one with fewer K/V heads than query heads 10-gqa: all of them or, when one fails, none (and no
    new folder). Returns the paths."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(f"cannot write {fmt!r} figures: choose one of {', '.join(FORMATS)}")
    _check(trace, head, theme, lang, precision)
    _check_dpi(dpi)
    out_dir = Path(out_dir)
    files = [*STAGE_FILES, *_extra_figures(trace)]
    paths = [out_dir / f"{name}.{fmt}" for name, _ in files]
    style = dict(theme=theme, lang=lang, precision=precision)
    with transaction():  # every figure or none (and no folder left behind)
        ensure_dir(out_dir)
        # PNG: each figure is encoded and written on a second thread while the next one is drawn (zlib
        # releases the GIL); an error there is raised here, by result()
        with ThreadPoolExecutor(max_workers=1) as writer:
            jobs = []
            for path, (_, stage) in zip(paths, files):
                if stage == "rope":
                    fig = rope_figure(trace, head=head, **style)
                elif stage == "gqa":
                    fig = gqa_figure(trace, **style)
                else:
                    fig = stage_figure(trace, stage, head=head, **style)
                if fmt == "png":
                    jobs.append(writer.submit(_write_png, path, _pixels(fig, dpi), dpi))
                else:
                    _save(fig, path, fmt, dpi)
            for job in jobs:
                job.result()
    return paths


def _check_dpi(dpi: float) -> None:
    if not dpi > 0:
        raise InputError(f"dpi must be a positive number (got {dpi})")


def _format_of(path: Path) -> str:
    return check_suffix(path, FORMATS)


def _check_folder(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist (create it first)")


def _save(fig: Figure, path: Path, fmt: str, dpi: float) -> None:
    """Write `fig` into a temp file beside `path`, renamed over it; no dates or versions in the file.

    PNG: drawn by Agg (`_pixels`) and encoded by png.py; SVG and PDF: savefig."""
    _check_dpi(dpi)
    if fmt == "png":
        _write_png(path, _pixels(fig, dpi), dpi)
        return

    def write(tmp: Path) -> None:
        with mpl.rc_context(_SAVE_RC):
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor=fig.get_facecolor(),
                        edgecolor="none")

    atomic_write(path, write)


def _pixels(fig: Figure, dpi: float) -> np.ndarray:
    """`fig` drawn by Agg at `dpi`, as savefig draws a PNG: (height, width, 4) uint8, a copy."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas, saved = FigureCanvasAgg(fig), fig.dpi
    with mpl.rc_context(_SAVE_RC):
        fig.dpi = dpi
        try:
            canvas.draw()
            return np.array(canvas.buffer_rgba())
        finally:
            fig.dpi = saved


def _write_png(path: Path, pixels: np.ndarray, dpi: float) -> None:
    """Encode `pixels` as a PNG (png.py) into `path`, atomically."""
    data = png.encode(pixels, dpi)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
