"""Safe arithmetic expressions of space and time for fields given in case files (e.g. the temperature).

``"T0 + dT * load * (z - z0) / L"`` with ``parameters: {T0: 900, ...}``: only numbers, the variables
``x, y, z, t, load``, the case's parameters, ``+ - * / **`` and the functions of :data:`FUNCTIONS` (each with
its number of arguments) are allowed; anything else is a one-line :class:`~adaptsim.errors.InputError` naming the field.

Nothing is passed to ``eval``: the parsed tree is checked once and then interpreted node by node on float64
arrays (integer constants become floats, so ``10**10**10`` is an overflow, not a hang); the coordinates are copies
(no function can write into the mesh); overflow, division by zero and invalid values are errors, not NaNs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from adaptsim.errors import InputError

VARIABLES = ("x", "y", "z", "t", "load")
#: The functions an expression may call, with their number of arguments.
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], int]] = {
    **{name: (getattr(np, name), 1) for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs")},
    **{name: (getattr(np, name), 2) for name in ("minimum", "maximum", "arctan2")},
}
MAX_LENGTH = 2000
MAX_NODES = 500
_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide, ast.Pow: np.power}
_UNARY = {ast.USub: np.negative, ast.UAdd: np.positive}

Node = Callable[[dict[str, Any]], Any]


class FieldExpression:
    """A checked expression ``f(x, y, z, t, load)``.

    Parameters
    ----------
    text
        The expression.
    parameters
        Named constants it may use.
    field
        Where it comes from in the case, for error messages.
    """

    def __init__(self, text: str, parameters: Mapping[str, float] | None = None, field: str = "expression") -> None:
        self.text = text
        self.parameters = {name: float(value) for name, value in (parameters or {}).items()}
        self.field = tuple(field.split("."))
        clash = set(self.parameters) & (set(VARIABLES) | set(FUNCTIONS))
        if clash:
            raise self._error(f"parameter name {sorted(clash)[0]!r} is reserved")
        if len(text) > MAX_LENGTH:
            raise self._error(f"is {len(text)} characters long; at most {MAX_LENGTH}")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as error:
            raise self._error(f"invalid expression {text!r}: {error.msg}") from None
        except (RecursionError, MemoryError):
            raise self._error("is nested too deeply") from None
        if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
            raise self._error(f"has more than {MAX_NODES} terms")
        try:
            self._root = self._compile(tree.body)
        except RecursionError:
            raise self._error("is nested too deeply") from None

    def _error(self, message: str) -> InputError:
        return InputError(message, self.field)

    def _compile(self, node: ast.AST) -> Node:
        """The function computing ``node``, after checking it is allowed."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            try:
                value = np.float64(node.value)
            except OverflowError:
                raise self._error(f"the number {str(node.value)[:20]}... does not fit a float (at most about 1.8e308)") from None
            return lambda scope: value
        if isinstance(node, ast.Name):
            name = node.id
            if name in FUNCTIONS:
                raise self._error(f"{name} is a function: call it, e.g. {name}(x), in {self.text!r}")
            if name not in VARIABLES and name not in self.parameters:
                allowed = ", ".join([*VARIABLES, *self.parameters])
                raise self._error(f"unknown name {name!r} in {self.text!r} (allowed: {allowed})")
            return lambda scope: scope[name]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            operation, left, right = _BINARY[type(node.op)], self._compile(node.left), self._compile(node.right)
            return lambda scope: operation(left(scope), right(scope))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            unary, operand = _UNARY[type(node.op)], self._compile(node.operand)
            return lambda scope: unary(operand(scope))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            function, arity = FUNCTIONS[node.func.id]
            if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
                raise self._error(f"{node.func.id} takes plain arguments, in {self.text!r}")
            if len(node.args) != arity:
                raise self._error(
                    f"{node.func.id} takes {arity} argument{'s' if arity > 1 else ''}, got {len(node.args)}, in {self.text!r}"
                )
            arguments = [self._compile(arg) for arg in node.args]
            return lambda scope: function(*(argument(scope) for argument in arguments))
        raise self._error(f"{type(node).__name__} is not allowed in {self.text!r} (numbers, + - * / **, {', '.join(FUNCTIONS)})")

    def __call__(self, points: np.ndarray, t: float, load: float = 1.0) -> np.ndarray:
        """Values at ``points`` (n, 3) at time ``t`` with load factor ``load`` (a new array)."""
        coordinates = np.array(points, dtype=float, copy=True)
        scope: dict[str, Any] = {
            "x": coordinates[:, 0],
            "y": coordinates[:, 1],
            "z": coordinates[:, 2],
            "t": np.float64(t),
            "load": np.float64(load),
            **{name: np.float64(value) for name, value in self.parameters.items()},
        }
        where = f"at t = {t:g}, load = {load:g}"
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                values = np.broadcast_to(np.asarray(self._root(scope), dtype=np.float64), (coordinates.shape[0],))
        except FloatingPointError as error:
            raise self._error(f"{self.text!r} {where}: {error}") from None
        except (OverflowError, MemoryError, RecursionError) as error:
            raise self._error(f"{self.text!r} cannot be evaluated {where} ({type(error).__name__})") from None
        if not np.all(np.isfinite(values)):
            raise self._error(f"{self.text!r} is not finite {where}")
        return np.array(values)
