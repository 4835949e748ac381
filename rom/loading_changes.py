"""A blade loading changed by dotted fields under ``loading.`` (``rotation.speed``, ``temperature.parameters.T_tip``,
``history.times``, ...): the training runs of a ROM and the loadings of a campaign are given this way."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from rom.hifi_case import HifiCase, Loading

CaseT = TypeVar("CaseT", bound=HifiCase)

#: Changes of a loading: case fields under ``loading.`` (dotted) and their values.
LoadingChanges = dict[str, float | list[float]]


def changed_loading(loading: Loading, changes: LoadingChanges, where: str = "campaign") -> Loading:
    """``loading`` with the dotted fields of ``changes`` set, validated (ValueError naming ``where`` and the field)."""
    tree: dict[str, Any] = loading.model_dump(mode="python")
    for key, value in changes.items():
        node = tree
        *parents, last = key.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise ValueError(f"{where}: {key!r} is not a field under loading")
            node = node[part]
        if last not in node or (parents[-1:] != ["parameters"] and isinstance(node[last], dict)):
            raise ValueError(f"{where}: {key!r} is not a field under loading")
        node[last] = value
    try:
        return Loading.model_validate(tree)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{where}: loading.{field}: {first['msg']}") from None


def changed_case(case: CaseT, changes: LoadingChanges) -> CaseT:
    """``case`` with its loading changed by ``changes`` (:func:`changed_loading`, on changes already validated)."""
    return case.model_copy(update={"loading": changed_loading(case.loading, changes)})
