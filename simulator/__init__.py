"""dlrsim: a fake SMSC and provider HTTP stubs for integration testing."""

__version__ = "0.1.0"
