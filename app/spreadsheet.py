"""What every CSV export shares: cells a spreadsheet would run as formulas made literal, and
the byte order mark that makes Excel read UTF-8 (SECURITY.md, test 16)."""

#: A cell starting with one of these is read as a formula by Excel, LibreOffice and Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralised(value: object) -> object:
    """Text a spreadsheet would run as a formula, made literal with a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
