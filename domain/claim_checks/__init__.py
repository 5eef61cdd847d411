"""Checking claims before they go out (issue 18): what a claim under check looks like, the
findings a check returns, and the pure rules behind each kind of finding."""
