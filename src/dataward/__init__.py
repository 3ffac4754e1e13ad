"""dataward: finds, protects, backs up and retires personal data in UK schools."""

__version__ = "0.1.0"
