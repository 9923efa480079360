"""Judging runs from their journals: the drill checker, the one recovery rule."""
