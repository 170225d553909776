"""Charts and the printable report of the agency statistics, drawn on the server with
ReportLab's graphics: the same drawings become SVG for the pages and go into the PDF."""

__all__: list[str] = []
