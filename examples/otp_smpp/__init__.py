"""Sample application: one-time passcodes sent over SMPP with smpplib (tested with dlrsim)."""
