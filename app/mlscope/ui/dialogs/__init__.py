"""Dialogs: they collect an answer and return it; the caller decides what to do with it."""
