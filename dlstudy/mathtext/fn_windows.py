"""Whitelisted sliding-window functions, for convolution and pooling by hand: padding, dilation, the
flipped kernel, valid cross-correlation, max/average/L2 pooling and max pooling's backward routing.

Plain NumPy on 2-D float arrays; sizes arrive as floats and must be whole numbers >= 1.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlstudy.mathtext.fn_checks import as_matrix


def _whole(value: Any, what: str, low: int = 1) -> int:
    number = float(value)
    if number != int(number) or number < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {number:g}")
    return int(number)


def _image(x: Any) -> np.ndarray:
    array = np.asarray(x, dtype=float)
    if array.ndim != 2:
        raise ValueError("expects a matrix")
    return array


def _pad(x, *amounts):
    """Zero padding: pad(X, p) on every side, pad(X, p_rows, p_cols), or pad(X, top, bottom, left, right)."""
    sides = [_whole(a, "padding", 0) for a in amounts]
    if len(sides) == 1:
        sides *= 4
    elif len(sides) == 2:
        sides = [sides[0], sides[0], sides[1], sides[1]]
    elif len(sides) != 4:
        raise ValueError("takes 1, 2 or 4 padding amounts")
    top, bottom, left, right = sides
    return np.pad(_image(x), ((top, bottom), (left, right)))


def _dilate(x, stride):
    """stride - 1 zeros inserted between neighbouring entries (rows and columns)."""
    x, s = _image(x), _whole(stride, "stride")
    out = np.zeros(((x.shape[0] - 1) * s + 1, (x.shape[1] - 1) * s + 1))
    out[::s, ::s] = x
    return out


def _windows(x, kernel_shape, stride):
    """The (rows, cols, kh, kw) windows of a valid sliding window with ``stride`` (floor: a window past the end is dropped)."""
    x, s = _image(x), _whole(stride, "stride")
    kh, kw = kernel_shape
    if kh > x.shape[0] or kw > x.shape[1]:
        raise ValueError(f"a {kh} x {kw} window does not fit a {x.shape[0]} x {x.shape[1]} input")
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw))[::s, ::s]


def _xcorr2d(x, kernel, stride=1):
    """Valid cross-correlation (what deep learning calls convolution): each output is the sum of a window times K."""
    k = _image(kernel)
    return np.einsum("ijab,ab->ij", _windows(x, k.shape, stride), k)


def _pool(reduce):
    def pool(x, size, stride):
        k = _whole(size, "window")
        return reduce(_windows(x, (k, k), stride))

    return pool


def _maxpool_route(x, grad, size, stride):
    """Max-pooling backward: each window's upstream gradient goes to the position of its (first) maximum."""
    k, s = _whole(size, "window"), _whole(stride, "stride")
    x, grad = _image(x), _image(grad)
    windows = _windows(x, (k, k), s)
    if windows.shape[:2] != grad.shape:
        raise ValueError(f"the gradient must be {windows.shape[0]} x {windows.shape[1]}, the pooled size")
    out = np.zeros_like(x)
    first = windows.reshape(*windows.shape[:2], -1).argmax(axis=-1)  # row-major order within the window
    for (i, j), index in np.ndenumerate(first):
        out[i * s + index // k, j * s + index % k] += grad[i, j]
    return out


WINDOW_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "pad": (_pad, 2, 5),  # zero padding: pad(X, p), pad(X, p_rows, p_cols), pad(X, top, bottom, left, right)
    "dilate": (_dilate, 2, 2),  # dilate(X, s): s - 1 zeros between entries (transposed convolution)
    "rot180": (lambda k: as_matrix(k)[::-1, ::-1], 1, 1),  # the kernel flipped both ways
    "xcorr2d": (_xcorr2d, 2, 3),  # xcorr2d(X, K, s): valid cross-correlation with stride s
    "maxpool2d": (_pool(lambda w: w.max(axis=(-2, -1))), 3, 3),  # maxpool2d(X, k, s)
    "avgpool2d": (_pool(lambda w: w.mean(axis=(-2, -1))), 3, 3),  # avgpool2d(X, k, s)
    "l2pool2d": (_pool(lambda w: np.sqrt(np.square(w).sum(axis=(-2, -1)))), 3, 3),  # sqrt of the window's sum of squares
    "maxpool_route": (_maxpool_route, 4, 4),  # maxpool_route(X, G, k, s): max-pooling backward
}
