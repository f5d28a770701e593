"""The whitelist of functions an expression may call, and the AST evaluator.

Every function is a plain NumPy computation on floats or arrays.  Indices are 1-based, as in the course
notes (x_1 is the first entry).  The functions live in one module per topic, each with its block of the
registry (name -> (function, min args, max args)); this module merges the blocks into ``FUNCTIONS``:

- ``fn_elementwise``: rounding, powers, logarithms, trigonometry, the normal distribution, activations;
- ``fn_arrays``: reductions, products, shapes, picking entries, building vectors and matrices;
- ``fn_linalg``: inverse, determinant, matrix powers, eigen- and singular values;
- ``fn_statistics``: statistics per column, per row and per group of rows;
- ``fn_windows``: sliding windows for convolution and pooling by hand;
- ``fn_graphs``: graphs given by adjacency matrices;
- ``fn_gridworld``: value iteration on a gridworld;
- ``fn_sequences``: token sequences (CTC, n-grams and BLEU, BPE, top k, causal mask);
- ``fn_metrics``: losses and metrics (class basis vectors, AP, confusion, cosine, box IoU, NMS);
- ``fn_checks``: the argument checks they (and the evaluator) share.

The topic modules never import this one.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, Mapping

import numpy as np

from dlstudy import limits
from dlstudy.mathtext.expr import Array, Binary, Call, ExprError, Group, Index, Name, Node, Num, Slice, Unary
from dlstudy.mathtext.fn_arrays import ARRAY_FUNCTIONS
from dlstudy.mathtext.fn_checks import check_elements, position
from dlstudy.mathtext.fn_elementwise import ELEMENTWISE_FUNCTIONS
from dlstudy.mathtext.fn_graphs import GRAPH_FUNCTIONS
from dlstudy.mathtext.fn_gridworld import GRIDWORLD_FUNCTIONS
from dlstudy.mathtext.fn_linalg import LINALG_FUNCTIONS
from dlstudy.mathtext.fn_metrics import METRIC_FUNCTIONS
from dlstudy.mathtext.fn_sequences import SEQUENCE_FUNCTIONS
from dlstudy.mathtext.fn_statistics import STATISTICS_FUNCTIONS
from dlstudy.mathtext.fn_windows import WINDOW_FUNCTIONS

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

Entry = tuple[Callable[..., Any], int, int]  # (function, min args, max args)


def _merge(*blocks: dict[str, Entry]) -> dict[str, Entry]:
    """One registry from the topic blocks; a name may be defined only once."""
    merged: dict[str, Entry] = {}
    for block in blocks:
        clash = set(block) & set(merged)
        assert not clash, f"function names defined twice: {clash}"  # a later block must never replace an earlier one
        merged.update(block)
    return merged


FUNCTIONS: dict[str, Entry] = _merge(
    ELEMENTWISE_FUNCTIONS,
    ARRAY_FUNCTIONS,
    LINALG_FUNCTIONS,
    STATISTICS_FUNCTIONS,
    WINDOW_FUNCTIONS,
    GRAPH_FUNCTIONS,
    GRIDWORLD_FUNCTIONS,
    SEQUENCE_FUNCTIONS,
    METRIC_FUNCTIONS,
)


# symbol -> (the operator, NumPy's where Python's refuses 1/0 or overflows). Python's operators are fast on
# floats and NumPy's own on arrays.
_BINARY: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any] | None]] = {
    "+": (operator.add, np.add),
    "-": (operator.sub, np.subtract),
    "*": (operator.mul, np.multiply),
    "/": (operator.truediv, np.true_divide),
    "%": (operator.mod, np.mod),
    # float_power: Python's ** makes (-8) ** (1/3) complex, and np.power wraps int64 around on overflow
    "^": (np.float_power, None),
    "<": (operator.lt, None),
    "<=": (operator.le, None),
    ">": (operator.gt, None),
    ">=": (operator.ge, None),
    "==": (operator.eq, None),
    "!=": (operator.ne, None),
}


def _matmul(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 0 or b.ndim == 0:
        _check_broadcast(a, b)
        return a * b
    if a.shape[-1] != b.shape[0]:
        raise ExprError(f"cannot multiply shapes {a.shape} and {b.shape}")
    check_elements(math.prod(a.shape[:-1]) * math.prod(b.shape[1:]))
    return a @ b


def _check_broadcast(a: Any, b: Any) -> None:
    shape_a, shape_b = getattr(a, "shape", ()), getattr(b, "shape", ())
    if shape_a and shape_b and shape_a != shape_b:
        try:
            check_elements(math.prod(np.broadcast_shapes(shape_a, shape_b)))
        except ValueError:
            pass  # shapes that don't broadcast: the operation reports it


Compiled = Callable[[Mapping[str, Any]], Any]


def evaluate(node: Node, env: Mapping[str, Any] | None = None) -> Any:
    """Evaluate once (compiles the tree first); names resolve in ``env`` then to pi/e.

    See ``compile_node`` to evaluate many times.
    """
    with np.errstate(all="ignore"):
        return compile_node(node)(env or {})


def _compile_index(node: Node) -> Callable[[Mapping[str, Any], int], Any]:
    """A position (1-based) or a range ``a:b`` (both included) along an axis of ``size``."""
    if isinstance(node, Slice):
        start, stop = compile_node(node.start), compile_node(node.stop)

        def span(env: Mapping[str, Any], size: int) -> slice:
            first, last = position(start(env), size), position(stop(env), size)
            if last < first:
                raise ExprError(f"range {first + 1}:{last + 1} is empty")
            return slice(first, last + 1)

        return span
    place = compile_node(node)
    return lambda env, size: position(place(env), size)


def compile_node(node: Node) -> Compiled:
    """Turn the tree into nested closures once, so repeated evaluation skips the dispatch.

    The closures only look up names in ``env`` and call whitelisted functions;
    callers wrap runs in ``np.errstate(all="ignore")`` so overflow gives inf/nan.
    """
    if isinstance(node, Num):
        value = node.value
        return lambda env: value
    if isinstance(node, Name):
        name = node.id
        constant = CONSTANTS.get(name)

        def lookup(env: Mapping[str, Any]) -> Any:
            try:
                return env[name]
            except KeyError:
                if constant is None:
                    raise ExprError(f"unknown name {name!r}") from None
                return constant

        return lookup
    if isinstance(node, Group):
        return compile_node(node.inner)
    if isinstance(node, Binary):
        left, right = compile_node(node.left), compile_node(node.right)
        if node.op == "and":
            return lambda env: _truth(left(env)) and _truth(right(env))
        if node.op == "or":
            return lambda env: _truth(left(env)) or _truth(right(env))
        if node.op == "@":
            return lambda env: _matmul(left(env), right(env))
        (op, numpy_op), symbol = _BINARY[node.op], node.op

        def binary(env: Mapping[str, Any]) -> Any:
            a, b = left(env), right(env)
            # only two arrays of different shapes can broadcast to something larger than either, and never to more
            # entries than the product of their sizes
            if (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape != b.shape
                    and a.size * b.size > limits.MAX_ARRAY_ELEMENTS):
                _check_broadcast(a, b)
            try:
                try:
                    return op(a, b)
                except (ZeroDivisionError, OverflowError):
                    if numpy_op is None:
                        raise
                    return numpy_op(np.float64(a), b)  # inf or nan, as NumPy gives
            except (ValueError, TypeError) as exc:  # mismatched shapes, or a word where a number belongs
                raise ExprError(f"cannot apply {symbol!r} to {_short(a)} and {_short(b)}: {exc}") from None

        return binary
    if isinstance(node, Unary):
        operand = compile_node(node.operand)
        if node.op == "-":
            return lambda env: -_as_number(operand(env))
        if node.op == "+":
            return lambda env: _as_number(operand(env))
        if node.op == "not":
            return lambda env: not _truth(operand(env))
        return lambda env: np.transpose(operand(env))
    if isinstance(node, Call):
        entry = FUNCTIONS.get(node.func)
        if entry is None:
            raise ExprError(f"unknown function {node.func!r}")
        func, lo, hi = entry
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{node.func}() takes {want} argument(s), got {len(node.args)}")
        args = [compile_node(a) for a in node.args]
        name = node.func
        if len(args) == 1:  # most calls: no list of arguments to build
            (only,) = args

            def call_one(env: Mapping[str, Any]) -> Any:
                try:
                    return func(only(env))
                except (ValueError, TypeError, IndexError, ArithmeticError) as exc:
                    raise ExprError(f"{name}(): {exc}") from None

            return call_one

        def call(env: Mapping[str, Any]) -> Any:
            try:
                return func(*[a(env) for a in args])
            except (ValueError, TypeError, IndexError, ArithmeticError) as exc:
                raise ExprError(f"{name}(): {exc}") from None

        return call
    if isinstance(node, Index):
        target = compile_node(node.target)
        indices = [_compile_index(i) for i in node.indices]

        def index(env: Mapping[str, Any]) -> Any:
            array = np.asarray(target(env))
            if len(indices) != array.ndim:
                raise ExprError(f"value has {array.ndim} dimension(s) but {len(indices)} index(es) were given")
            return array[tuple(i(env, size) for i, size in zip(indices, array.shape))]

        return index
    if isinstance(node, Array):
        numbers = _numbers(node)
        if numbers is not None:  # written out in numbers: no entry to evaluate, and far below the size limit
            return lambda env: _as_array(numbers)
        items = [compile_node(item) for item in node.items]

        def array(env: Mapping[str, Any]) -> Any:
            values = [item(env) for item in items]
            check_elements(sum(_size(v) for v in values))
            return _as_array(values)

        return array
    raise TypeError(f"not an expression node: {node!r}")


def _numbers(node: Node) -> Any:
    """The entries of an array written out in numbers ([1, -2] or [1, 2; 3, 4]) as nested lists, else None."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Num):
        return -node.operand.value
    if isinstance(node, Array):
        items = [_numbers(item) for item in node.items]
        return None if any(item is None for item in items) else items
    return None


def _as_array(values: list) -> np.ndarray:
    try:
        return np.array(values, dtype=float)
    except ValueError:
        raise ExprError("rows of a matrix must have the same length") from None


def _size(value: Any) -> int:
    """np.size without its dispatch for the usual numbers and arrays."""
    if isinstance(value, np.ndarray):
        return value.size
    return 1 if isinstance(value, (float, int)) else np.size(value)


def _truth(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_, float)):  # a comparison's result, without np.ndim's dispatch
        return bool(value)
    if np.ndim(value) != 0:
        raise ExprError("a condition on a vector or matrix needs all(...) or any(...)")
    return bool(value)


def _short(value: Any) -> str:
    return repr(value) if isinstance(value, (str, int, float)) else f"an array of shape {np.shape(value)}"


_FLOAT = np.dtype(float)


def finite(value: Any) -> bool:
    """No inf or nan anywhere (fast for plain numbers)."""
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    # An inf or nan entry makes the sum of squares inf or nan, so a finite one settles it in one BLAS call, which
    # (unlike a ufunc) warns of nothing; every step value of every draw is tested. One that overflows is tested
    # entry by entry.
    if type(value) is np.ndarray and value.dtype == _FLOAT and math.isfinite(np.vdot(value, value)):
        return True
    finite_entries = np.isfinite(value)
    return bool(finite_entries.all()) if type(finite_entries) is np.ndarray else bool(finite_entries)


def _as_number(value: Any) -> Any:
    if isinstance(value, str):
        raise ExprError(f"{value!r} is a word, not a number")
    return value

