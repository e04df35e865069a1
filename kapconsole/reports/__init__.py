"""The integration summary PDF: a frozen report-data value in, PDF bytes out. No Qt, no database."""

from kapconsole.reports.data import ReportData
from kapconsole.reports.render import render_pdf

__all__ = ["ReportData", "render_pdf"]
