"""Printable practice sheets with answer keys (``dlstudy sheet``): PDF, LaTeX or Markdown.

- ``model.py``: what a sheet holds (versions, problems, each problem's math as LaTeX parts);
- ``writing.py``: ``make_sheets``: planning, file names, the threads that solve and write;
- ``formats.py``: the format registry; ``typst.py`` (PDF), ``latex.py``, ``markdown.py``: one renderer each.
"""

from dlstudy.output.sheets.writing import make_sheets

__all__ = ["make_sheets"]
