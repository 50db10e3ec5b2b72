"""Saldo: an open prepaid platform for mobile operators, MVNOs and SIM/eSIM resellers."""

__version__ = "0.1.0"
