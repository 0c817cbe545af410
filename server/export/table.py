"""CSV for classification projects (images or text): one row per label of an item.

    item_id, file, [text,] tag | tags, labelers, status, time

`tag` (multi-class) holds the one tag; `tags` (multi-label) holds a JSON array of them, as a
tag name may hold any separator. `labelers` are joined by `;` (user names cannot hold it).
`time` is when the label was submitted, UTC ISO-8601. With overlap=majority an item has one
row naming every labeler who voted; with overlap=all each labeler has a row. UTF-8, no BOM,
RFC 4180 quoting, CRLF line ends as the csv module writes them. A cell that a spreadsheet
would run as a formula gets a leading `'` (`server/export/formula_cells.py`); the columns hold
no numbers of their own, and a name or text that is a plain number is written as it is.
"""

import csv
import io

import msgspec

from server.export.base import Writer
from server.export.formula_cells import neutralize
from server.export.model import ExportItem, ExportProject
from server.export.naming import iso_time
from server.export.sink import Sink


class CsvWriter(Writer):
    def open(self, project: ExportProject, out: Sink) -> None:
        self.multi_label = project.multi_label
        self.text = project.project_type.startswith("text_")
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)
        header = ["item_id", "file"]
        if self.text:
            header.append("text")
        header += ["tags" if self.multi_label else "tag", "labelers", "status", "time"]
        self._row(header, out)

    def _row(self, row: list[str], out: Sink) -> None:
        self.csv.writerow(row)
        out.write(self.buffer.getvalue().encode("utf-8"))
        self.buffer.seek(0)
        self.buffer.truncate()

    def add(self, item: ExportItem, out: Sink) -> None:
        for label in item.labels:
            row = [item.item.item_id, item.file_name]
            if self.text:
                row.append(item.item.text or "")
            tags = label.draft.tags
            if self.multi_label:
                row.append(msgspec.json.encode(tags).decode())
            else:
                row.append(tags[0] if tags else "")
            row += [";".join(label.labelers), label.status, iso_time(label.at) or ""]
            self._row([neutralize(cell) for cell in row], out)
