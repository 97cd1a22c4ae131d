"""Releases: the versioning policy, release plans, change notes, release notes and the
changelog, and the one transaction that writes a release."""
