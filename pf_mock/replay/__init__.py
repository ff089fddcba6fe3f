"""Recorded markets: read a recording (``formats.read_recording``) and replay it as a market source."""
