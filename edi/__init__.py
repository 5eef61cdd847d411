"""X12 EDI: tokenizing, envelopes, and the 835 / 277CA / 999 transaction sets."""
