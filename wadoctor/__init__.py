"""wadoctor: find and fix broken or conflicting WhatsApp multi-device gateway sessions."""

__version__ = "0.1.0"
