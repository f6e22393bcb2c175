"""Helpers shared by the test folders, imported as ``tests.helpers.<module>``."""
