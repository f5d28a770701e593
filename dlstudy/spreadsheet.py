"""Spreadsheet formula injection, neutralised the way OWASP recommends, and undone on the way back.

A CSV cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets
(``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``). Export puts a ``'`` in front of
such a cell (and of a cell that already starts with quotes before one of
those characters, so the round trip stays exact); import takes one ``'`` off.
"""

from __future__ import annotations

import re

_TRIGGER = re.compile(r"'*[=+\-@\t\r]")


def neutralize(cell: str) -> str:
    """The cell as a spreadsheet shows it as text."""
    return "'" + cell if _TRIGGER.match(cell) else cell


def restore(cell: str) -> str:
    """The cell as it was before ``neutralize``."""
    return cell[1:] if cell.startswith("'") and _TRIGGER.match(cell[1:]) else cell
