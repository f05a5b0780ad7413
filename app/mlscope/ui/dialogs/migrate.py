"""Migrate to SQLite...: an mlruns folder into a new mlflow.db by MLflow's own migration.

The dialog says what will happen, runs :func:`mlscope.core.migrate.migrate` on a worker
(progress, Cancel), then shows what was counted on both sides and offers to open the result.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.errors import user_message
from mlscope.core.migrate import Report, default_target

from ..tasks import Tasks

REPAIRS_SHOWN = 4


class MigrateDialog(QDialog):
    """Asks where, migrates on a worker, shows the counts; ``openRequested(path)`` opens the
    new database in a tab (the window does that)."""

    openRequested = Signal(str)

    def __init__(self, source: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Migrate to SQLite")
        self.setObjectName("migrateDialog")
        self.resize(640, 300)
        self.tasks = Tasks(self, threads=1)
        self.handle = None
        self.report: Report | None = None

        self.intro = QLabel(objectName="migrateIntro", wordWrap=True)
        self.intro.setTextFormat(Qt.RichText)
        self.source_edit = QLineEdit(source, objectName="migrateSource")
        self.source_edit.setPlaceholderText("an mlruns folder")
        self.target_edit = QLineEdit(objectName="migrateTarget")
        self.target_edit.setPlaceholderText("mlflow.db beside the folder")
        self.browse_buttons = browse_source, browse_target = (QPushButton("Browse…"),
                                                              QPushButton("Choose…"))
        browse_source.clicked.connect(self._choose_source)
        browse_target.clicked.connect(self._choose_target)
        form = QFormLayout()
        form.addRow("Folder:", _row(self.source_edit, browse_source))
        form.addRow("New database:", _row(self.target_edit, browse_target))

        self.progress = QProgressBar(objectName="migrateProgress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.message = QLabel(objectName="migrateMessage", wordWrap=True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.table = QTableWidget(0, 4, objectName="migrateCounts")
        self.table.setHorizontalHeaderLabels(["", "folder", "new database", ""])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.hide()

        self.buttons = QDialogButtonBox()
        self.migrate_button = self.buttons.addButton("Migrate", QDialogButtonBox.AcceptRole)
        self.migrate_button.setObjectName("migrateButton")
        self.open_button = self.buttons.addButton("Open in New Tab", QDialogButtonBox.ActionRole)
        self.open_button.setObjectName("openResultButton")
        self.open_button.hide()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.migrate_button.setDefault(True)
        self.migrate_button.clicked.connect(self.start)
        self.open_button.clicked.connect(self._open_result)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.message)
        lay.addWidget(self.table, 10)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self.source_edit.textChanged.connect(self._explain)
        self.target_edit.textChanged.connect(self._explain)
        self._explain()

    # -- asking ---------------------------------------------------------------------------------
    def _target(self) -> str:
        text = self.target_edit.text().strip()
        if text:
            return text
        source = self.source_edit.text().strip()
        return str(default_target(Path(source))) if source else ""

    def _explain(self) -> None:
        source = self.source_edit.text().strip() or "the folder"
        target = self._target() or "mlflow.db beside it"
        self.intro.setText(
            f"MLflow's own migration copies every experiment, run, param, metric point, tag "
            f"and registered model of <b>{escape(source)}</b> into a new SQLite file, "
            f"<b>{escape(target)}</b>.<br>The folder is only read: nothing in it changes, and "
            "artifacts stay where they are. An existing file is never overwritten. Afterwards "
            "both are counted side by side.")
        self.migrate_button.setEnabled(bool(self.source_edit.text().strip()) and not self.running())

    def _choose_source(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "mlruns folder to migrate",
                                                self.source_edit.text())
        if path:
            self.source_edit.setText(path)

    def _choose_target(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New SQLite database", self._target(), "SQLite databases (*.db);;All files (*)",
            options=QFileDialog.DontConfirmOverwrite)
        if path:
            self.target_edit.setText(path)

    # -- running --------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    def start(self) -> None:
        """Migrate on a worker; the window stays free and Cancel stops MLflow at once."""
        from mlscope.core.migrate import migrate

        source, target = self.source_edit.text().strip(), self._target()
        self.report = None
        self.message.setToolTip("")
        self.table.hide()
        self.open_button.hide()
        self.progress.setRange(0, 0)  # busy until MLflow reports its first experiment
        self.progress.show()
        self._say(f"Migrating {source}…")
        self.handle = self.tasks.start(
            "migrate", lambda progress, cancel: migrate(source, target, progress, cancel),
            on_done=self._done, on_error=self._failed, on_progress=self._progress,
            on_cancel=self._cancelled)
        self._running(True)

    def _running(self, on: bool) -> None:
        for w in (self.source_edit, self.target_edit, self.migrate_button, *self.browse_buttons):
            w.setEnabled(not on)
        self.cancel_button.setText("Cancel" if on or self.report is None else "Close")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total} experiments and models")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setProperty("error", error)
        self.message.setStyleSheet("color: #c0392b;" if error else "")
        self.message.setText(text)

    def _failed(self, exc) -> None:
        self.progress.hide()
        self._say(user_message(exc), error=True)
        self._running(False)

    def _cancelled(self) -> None:
        self.progress.hide()
        self._say("Cancelled: MLflow was stopped and its unfinished file removed. The folder is "
                  "as it was.")
        self._running(False)

    def _done(self, report: Report) -> None:
        self.report = report
        self.progress.hide()
        self._show_counts(report)
        self._running(False)
        self.migrate_button.hide()  # done: a second click could only be refused
        self.open_button.show()
        self.open_button.setDefault(True)
        self.resize(self.width(), max(self.height(), 560))

    def _show_counts(self, report: Report) -> None:
        self.table.setRowCount(len(report.counts))
        for row, c in enumerate(report.counts):
            cells = (c.what, f"{c.source:,}", f"{c.target:,}", "✓" if c.same else "differs")
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (1, 2):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.show()
        p = report.plan
        lines = [f"Migrated into {p.target}." if report.ok else
                 f"Migrated into {p.target}, but {len(report.differences)} counts differ: "
                 + ", ".join(c.what for c in report.differences) + "."]
        if p.repairs:
            names = ", ".join(r.run_id for r in p.repairs[:REPAIRS_SHOWN])
            self.message.setToolTip("\n".join(
                f"experiment {r.experiment_id}, run {r.run_id}: no {', '.join(r.missing)}/"
                for r in p.repairs))
            more = len(p.repairs) - REPAIRS_SHOWN
            lines.append(
                f"{len(p.repairs)} runs lacked empty folders git does not keep; MLflow migrated "
                f"them from a repaired temporary copy (the folder is untouched): {names}"
                + (f" and {more} more." if more > 0 else "."))
        if p.trashed_active:
            lines.append(f"{len(p.trashed_active)} experiments in .trash whose meta.yaml says "
                         "active stay deleted, as the folder lists them (marked on the copy): "
                         + ", ".join(p.trashed_active) + ".")
        self._say("\n".join(lines), error=not report.ok)

    def _open_result(self) -> None:
        if self.report is not None:
            self.openRequested.emit(str(self.report.plan.target))
            self.accept()

    def _cancel_or_close(self) -> None:
        if self.running():
            self.handle.cancel()
        else:
            self.reject()

    def done(self, result: int) -> None:
        """Closing while MLflow runs stops it and waits for the unfinished file to go."""
        self.tasks.shutdown(wait_ms=10_000)
        super().done(result)


def _row(*widgets) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for x in widgets:
        lay.addWidget(x, 1 if isinstance(x, QLineEdit) else 0)
    return w
