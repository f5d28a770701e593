"""Printed outputs: practice sheets, formula sheets, Anki and CSV exports."""
