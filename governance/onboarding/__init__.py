"""Onboarding an area: the tier tree, buildings, households, departments, partners and staff posts
from one .xlsx workbook (``importer``), its blank template and its export (``workbook``)."""
