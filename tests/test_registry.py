"""The one registry type behind oracles, card kinds, lint rules and sheet formats."""

from __future__ import annotations

import pytest

from dlstudy.registry import Registry


def test_a_name_is_registered_once_and_resolves_only_inside():
    formats: Registry[int] = Registry("sheet format")
    formats.add("pdf", 1)
    with pytest.raises(ValueError, match="duplicate sheet format 'pdf'"):
        formats.add("pdf", 2)
    assert formats.get("pdf") == 1 and "pdf" in formats and "os.path" not in formats
    with pytest.raises(KeyError):
        formats.get("os.path")
    formats.remove("pdf")
    assert formats.names() == ()


def test_modules_are_imported_once_on_first_lookup_in_order():
    imported = []
    lazy: Registry[str] = Registry("thing", "email", ("charset", "encoders"),
                                   on_import=lambda module: imported.append(module.__name__))
    assert imported == []  # nothing until the first lookup
    lazy.add("early", "x")
    assert lazy.names() == ("early",) and imported == ["email.charset", "email.encoders"]
    lazy.names()
    assert imported == ["email.charset", "email.encoders"]
