"""CSV that is safe to open in a spreadsheet and imports back unchanged.

Spreadsheet apps run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (CSV injection: a delegate named ``=HYPERLINK(…)``). Every CSV we export prefixes such cells with an
apostrophe, the neutraliser OWASP recommends, and every import strips it again, so a ``+447…`` mobile and a
hyphenated name round-trip. Exports start with a UTF-8 byte-order mark so Excel shows "Siân", not "SiÃ¢n".

Any admin with export buttons uses :class:`SafeCSV` (through ``delegates.admin.CsvImportExportAdmin``);
hand-written exports call :func:`neutralise` on every cell.
"""

from import_export.formats.base_formats import CSV

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value):
    """The cell as a spreadsheet will show it, never run it: an apostrophe before a formula-like start."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def strip_neutraliser(text: str) -> str:
    """Undo :func:`neutralise` on an imported cell: ``'+447…`` is ``+447…`` again."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class SafeCSV(CSV):
    """django-import-export's CSV with every cell neutralised (the BOM comes from the admin's ``to_encoding``)."""

    def export_data(self, dataset, **kwargs):
        rows = [[neutralise(cell) for cell in row] for row in dataset]
        dataset = dataset.__class__(*rows, headers=[neutralise(h) for h in dataset.headers or []])
        return super().export_data(dataset, **kwargs)
