"""One controller per feature. Each holds the store and the task runner, talks to its
views and to the other controllers only through signals, and is testable with pytest-qt
without the main window. ``StorePage`` builds them and wires them together."""
