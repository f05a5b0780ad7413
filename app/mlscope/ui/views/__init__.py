"""Widgets. Each shows what it is given and says what the user asked for through signals."""
