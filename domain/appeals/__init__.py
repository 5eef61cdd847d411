"""Appeal packets and corrected claims: letter facts and templates, enclosures, attestation
rules, the replacement claim. Pure: no I/O beyond the templates shipped in `domain/data`."""
