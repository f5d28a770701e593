"""A registry of named items: oracles, card kinds, lint rules, sheet formats.

Names resolve only inside a registry, never to import paths. The modules that
define the items are imported on first use (so listing and ``--help`` stay
fast), in the order given, and a name registered twice raises ValueError.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Callable, Generic, Iterator, Sequence, TypeVar

Item = TypeVar("Item")


class Registry(Generic[Item]):
    """Name -> item, filled by importing ``package.module`` for each of ``modules`` on first lookup.

    ``what`` names an item in errors ("oracle id"); ``on_import`` takes each imported module, for modules that
    hold their item (a card kind's ``KIND``) rather than register it themselves.
    """

    def __init__(
        self,
        what: str,
        package: str = "",
        modules: Sequence[str] = (),
        on_import: Callable[[ModuleType], object] | None = None,
    ) -> None:
        self.what = what
        self._items: dict[str, Item] = {}
        self._package = package
        self._modules = tuple(modules)
        self._on_import = on_import
        self._loaded = not self._modules

    def add(self, name: str, item: Item) -> Item:
        """Register ``item`` under ``name``; a name already taken raises ValueError."""
        if name in self._items:
            raise ValueError(f"duplicate {self.what} {name!r}")
        self._items[name] = item
        return item

    def remove(self, name: str) -> None:
        """Take ``name`` out (tests register toy items and remove them again)."""
        self._items.pop(name, None)

    def load(self) -> None:
        """Import the defining modules, once; the flag is set first, so a module that looks an item up while
        it is being imported does not import itself again."""
        if self._loaded:
            return
        self._loaded = True
        for module in self._modules:
            imported = importlib.import_module(f"{self._package}.{module}")
            if self._on_import is not None:
                self._on_import(imported)

    def names(self) -> tuple[str, ...]:
        """Every name, in the order registered."""
        self.load()
        return tuple(self._items)

    def get(self, name: str) -> Item:
        """The item; KeyError for a name not registered (callers say "did you mean")."""
        self.load()
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._items

    def __iter__(self) -> Iterator[Item]:
        self.load()
        return iter(list(self._items.values()))
