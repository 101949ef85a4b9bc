"""Writes maxqda_pl_segments.xls, a hand-made MAXQDA Coded Segments table with Polish headers, as BIFF8.

Run once with xlwt on the path (`pip install --target /tmp/xlwt xlwt==1.3.0`; `PYTHONPATH=/tmp/xlwt python
make_maxqda_pl_xls.py`). xlwt is not a qualkg dependency: the .xls is committed and only read (python-calamine).
"""

from pathlib import Path

import xlwt  # type: ignore[import-not-found]

HEADER = ["Grupa dokumentów", "Nazwa dokumentu", "Kod", "Fragment", "Początek", "Koniec", "Autor"]
ROWS = [
    ["Wywiady", "Wywiad 01", "Wyzwania\\Jasność roli", "SYNTHETIC: Nikt nie opisał mojej roli.", 3, 3, "ania"],
    ["Wywiady", "Wywiad 01", "Wsparcie", "SYNTHETIC: Nikt nie opisał mojej roli.", 3, 3, "ania"],
    ["Wywiady", "Wywiad 01", "Wsparcie", "SYNTHETIC: Koledzy mnie zastąpili.", 7, 7, "ania"],
    ["Wywiady", "Wywiad 01", "Wsparcie", "SYNTHETIC: Koledzy mnie zastąpili.", 7, 7, "ania"],
]

book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("Kodowane segmenty")
for r, row in enumerate([HEADER, *ROWS]):
    for c, value in enumerate(row):
        sheet.write(r, c, value)
book.save(str(Path(__file__).with_name("maxqda_pl_segments.xls")))
