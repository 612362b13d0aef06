"""Image → patch tokens (ViT-style), numpy only: cut a grid of patches, embed each linearly.

Patch i counts row by row from the top-left: patch_1 … patch_cols is the top row.
"""

from __future__ import annotations

import numpy as np

from .positions import sinusoidal
from .tokens import Token

#: Each patch is resampled to this many pixels a side before it is embedded.
PATCH_PIXELS = 8


def split_patches(pixels: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(H, W, C) pixels → (rows·cols, ph·pw·C) flattened patches, row-major (top row first).

    H and W must be rows·ph and cols·pw; the image loader resizes to that.
    """
    h, w, c = pixels.shape
    ph, pw = h // rows, w // cols
    grid = pixels[: rows * ph, : cols * pw].reshape(rows, ph, cols, pw, c)  # (rows, ph, cols, pw, C)
    grid = grid.transpose(0, 2, 1, 3, 4)  # (rows, cols, ph, pw, C)
    return grid.reshape(rows * cols, ph * pw * c)  # (N, ph·pw·C)


def patch_embeddings(patches: np.ndarray, rng: np.random.Generator, d_model: int) -> np.ndarray:
    """E_patch = (patches − ½) · W_patch + P, shape (N, d_model).

    W_patch (ph·pw·C × d_model) is N(0, 1/(ph·pw·C)) from `rng`; P is the sinusoidal position of
    each patch in reading order. Pixels are in [0, 1].
    """
    n, dim = patches.shape
    w_patch = rng.standard_normal((dim, d_model)) / np.sqrt(dim)  # (D, d_model)
    return (patches - 0.5) @ w_patch + sinusoidal(n, d_model)  # (N, d_model)


def patch_tokens(rows: int, cols: int) -> tuple[Token, ...]:
    """Tokens patch_1 … patch_N, each knowing nothing of the text (ids None, empty spans)."""
    return tuple(Token(f"patch_{i + 1}", f"patch_{i + 1}", None, 0, 0, special=True)
                 for i in range(rows * cols))


def grid_tokens(rows: int, cols: int) -> tuple[Token, ...]:
    """A ViT's tokens: [CLS], then patch_1 … patch_N row by row; each patch's piece is its grid position
    "(row,col)", counting from 1 (patch_1 is (1,1), top-left)."""
    cls = Token("[CLS]", "[CLS]", None, 0, 0, special=True)
    return (cls, *(Token(f"patch_{k + 1}", f"({k // cols + 1},{k % cols + 1})", None, 0, 0)
                   for k in range(rows * cols)))


def patch_weights(row: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """One query's weights over the keys (S,) → (rows, cols) over the image's patches: the last rows·cols keys
    (a ViT's keys begin with [CLS], which sits nowhere in the image; seeded patches have none)."""
    rows, cols = grid
    return np.asarray(row)[len(row) - rows * cols:].reshape(rows, cols)  # (rows, cols), patch_1 top-left


def parse_grid(spec: str) -> tuple[int, int]:
    """"4x4" → (4, 4): rows × columns of patches."""
    parts = spec.lower().replace("×", "x").split("x")
    # ASCII digits only: "²".isdigit() is True, but int("²") fails
    if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        raise ValueError(f"--patches takes ROWSxCOLS, e.g. 4x4 (got {spec!r})")
    rows, cols = (int(p) for p in parts)
    if not (1 <= rows <= 32 and 1 <= cols <= 32):
        raise ValueError(f"--patches needs 1 to 32 rows and columns (got {spec!r})")
    return rows, cols
