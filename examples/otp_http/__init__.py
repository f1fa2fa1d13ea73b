"""Sample application: one-time passcodes sent through Infobip's HTTP API (tested with dlrsim)."""
