"""wadoctor: find and fix broken or conflicting WhatsApp multi-device gateway sessions."""

__version__ = "0.1.0"
# Of every --json document (docs/contracts.md): a field changes meaning or goes only with a new one.
JSON_SCHEMA_VERSION = 1
