"""responder: acknowledges support mail the moment it arrives and routes it to a human queue."""

__version__ = "0.1.0"
