"""Presentation of results: the HTML report (Jinja2 templates, vendored plotly.js), the
terminal tables and the workbook export. Imports the layers below; nothing below imports it.
"""
