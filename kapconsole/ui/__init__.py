"""Thin Qt views over the services. The only package that imports PySide6 or pyqtgraph."""
