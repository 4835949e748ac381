"""Safe arithmetic expressions of space and time for fields given in case files (e.g. the temperature).

``"T0 + dT * load * (z - z0) / L"`` with ``parameters: {T0: 900, ...}``: only numbers, the variables
``x, y, z, t, load``, the case's parameters, ``+ - * / **``, and a few NumPy functions are allowed;
anything else is a one-line :class:`CaseError`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np

from adaptsim.errors import CaseError

VARIABLES = ("x", "y", "z", "t", "load")
FUNCTIONS = {
    name: getattr(np, name) for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs", "minimum", "maximum", "arctan2")
}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


class FieldExpression:
    """A compiled expression ``f(x, y, z, t, load)``.

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
        self.parameters = dict(parameters or {})
        self.field = tuple(field.split("."))
        clash = set(self.parameters) & (set(VARIABLES) | set(FUNCTIONS))
        if clash:
            raise CaseError(f"parameter name {sorted(clash)[0]!r} is reserved", field=self.field)
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as error:
            raise CaseError(f"invalid expression {text!r}: {error.msg}", field=self.field) from None
        for node in ast.walk(tree):
            self._check(node)
        self._code = compile(tree, "<expression>", "eval")

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, *_OPERATORS)):
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return
        if isinstance(node, ast.Name):
            if node.id not in VARIABLES and node.id not in self.parameters and node.id not in FUNCTIONS:
                allowed = ", ".join([*VARIABLES, *self.parameters])
                raise CaseError(f"unknown name {node.id!r} in {self.text!r} (allowed: {allowed})", field=self.field)
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords:
            return
        raise CaseError(
            f"{type(node).__name__} is not allowed in {self.text!r} (numbers, + - * / **, {', '.join(FUNCTIONS)})", field=self.field
        )

    def __call__(self, points: np.ndarray, t: float, load: float = 1.0) -> np.ndarray:
        """Values at ``points`` (n, 3) at time ``t`` with load factor ``load``."""
        scope = {
            "x": points[:, 0],
            "y": points[:, 1],
            "z": points[:, 2],
            "t": float(t),
            "load": float(load),
            **self.parameters,
            **FUNCTIONS,
        }
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(eval(self._code, {"__builtins__": {}}, scope), dtype=float), (points.shape[0],))
        if not np.all(np.isfinite(values)):
            raise CaseError(f"{self.text!r} is not finite at t = {t:g}", field=self.field)
        return np.array(values)
