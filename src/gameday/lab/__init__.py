"""The embedded local lab: a miniature multi-AZ, two-region platform on loopback."""
