"""The Indonesian catalogue of the officers' screens (gettext domain ``admin``).

Flask-Admin ships no Indonesian; ``id/LC_MESSAGES/admin.po`` translates its own strings (buttons,
filters, flash messages) and the WTForms validation messages its forms show. The compiled
``admin.mo`` is committed next to it so a fresh checkout works; after editing the ``.po`` run
``python -m pengesahan.translations`` (a test fails while the two disagree).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

__all__ = ["DIRECTORY", "DOMAIN", "compile_catalogues", "compiled"]

#: The translation directory (``<locale>/LC_MESSAGES/<domain>.po``), for Flask-Babel and Flask-Admin.
DIRECTORY = Path(__file__).resolve().parent
#: Flask-Admin translates through this gettext domain.
DOMAIN = "admin"


def compiled(po_path: Path) -> bytes:
    """The ``.mo`` bytes of the catalogue at ``po_path``."""
    # Only when compiling: every process that starts reads DIRECTORY, none of them compiles.
    from babel.messages.mofile import write_mo  # only when compiling, see above
    from babel.messages.pofile import read_po  # only when compiling, see above

    with po_path.open("rb") as handle:
        catalogue = read_po(handle, domain=DOMAIN)
    out = BytesIO()
    write_mo(out, catalogue, use_fuzzy=False)
    return out.getvalue()


def compile_catalogues(directory: Path = DIRECTORY) -> list[Path]:
    """Write the ``.mo`` next to every ``.po`` under ``directory``; returns the files written."""
    written = []
    for po_path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        mo_path.write_bytes(compiled(po_path))
        written.append(mo_path)
    return written
