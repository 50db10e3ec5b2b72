"""Exchange-rate files: the ECB's daily reference rates (XML), and CSV or JSON files for the
currencies the ECB does not publish (ARS, COP)."""
