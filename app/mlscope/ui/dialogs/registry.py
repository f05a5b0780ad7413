"""Registry dialogs: a form, then a confirmation saying exactly what will change, then the
write's outcome (a refusal stays in the dialog, in words).

Each dialog builds a :class:`~mlscope.core.registry.changes.Change` from what the view
showed and emits ``confirmed(change)`` only from its confirmation page; the controller
writes and calls :meth:`ChangeDialog.finish` or :meth:`ChangeDialog.show_error`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mlscope.core.errors import StoreError
from mlscope.core.registry import changes as C
from mlscope.core.registry.changes import STAGES


class ChangeDialog(QDialog):
    """Form -> "This will change: ..." -> Apply. Without a form it opens on the confirmation."""

    confirmed = Signal(object)  # the Change

    def __init__(self, title: str, change: C.Change | None = None, parent=None,
                 type_to_confirm: str | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.change: C.Change | None = change
        self._type = type_to_confirm
        self.busy = False

        self.form = QWidget()
        self.form_layout = QFormLayout(self.form)
        self.sentence = QLabel(objectName="changeSentence", wordWrap=True)
        self.sentence.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail = QPlainTextEdit(objectName="changeDetail", readOnly=True)
        self.detail.setMaximumHeight(90)
        self.typed = QLineEdit(objectName="typeToConfirm")
        confirm = QWidget()
        cl = QVBoxLayout(confirm)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(QLabel("<b>This will change:</b>"))
        cl.addWidget(self.sentence)
        cl.addWidget(self.detail)
        self.typed_label = QLabel(wordWrap=True)
        cl.addWidget(self.typed_label)
        cl.addWidget(self.typed)
        cl.addStretch(1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.form)
        self.pages.addWidget(confirm)
        self.error = QLabel(objectName="changeError", wordWrap=True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error.hide()

        self.buttons = QDialogButtonBox()
        self.back_button = QPushButton("Back")
        self.next_button = QPushButton("Next...", objectName="nextButton")
        self.apply_button = QPushButton("Apply", objectName="applyButton")
        self.cancel_button = QPushButton("Cancel")
        for b, role in ((self.back_button, QDialogButtonBox.ResetRole),
                        (self.next_button, QDialogButtonBox.ActionRole),
                        (self.apply_button, QDialogButtonBox.AcceptRole),
                        (self.cancel_button, QDialogButtonBox.RejectRole)):
            self.buttons.addButton(b, role)
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.apply_button.clicked.connect(self._apply)
        self.cancel_button.clicked.connect(self.reject)
        self.typed.textChanged.connect(lambda _: self._update())

        lay = QVBoxLayout(self)
        lay.addWidget(self.pages, 1)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.pages.setCurrentIndex(1 if change is not None else 0)
        if change is not None:
            self._show_change(change)
        self._update()

    # -- subclasses ----------------------------------------------------------------------------
    def build(self) -> C.Change:
        """The change the form describes (raise StoreError with words if it is not one)."""
        raise NotImplementedError

    # -- flow ----------------------------------------------------------------------------------
    def has_form(self) -> bool:
        return self.form_layout.rowCount() > 0

    def _next(self) -> None:
        try:
            change = self.build()
        except StoreError as exc:
            self.show_error(str(exc), busy=False)
            return
        self.change = change
        self._show_change(change)
        self.pages.setCurrentIndex(1)
        self._update()

    def _show_change(self, change: C.Change) -> None:
        self.error.hide()
        self.sentence.setText(change.sentence)
        self.detail.setPlainText(change.detail if change.detail not in ("", "create") else "")
        self.detail.setVisible(change.detail not in ("", "create"))
        need = self._type is not None
        self.typed_label.setVisible(need)
        self.typed.setVisible(need)
        if need:
            self.typed_label.setText(f"Type <b>{_esc(self._type)}</b> to confirm.")

    def _back(self) -> None:
        self.error.hide()
        self.pages.setCurrentIndex(0)
        self._update()

    def _apply(self) -> None:
        if self.change is None or self.busy or not self._typed_ok():
            return
        self.busy = True
        self.error.hide()
        self.apply_button.setText("Writing...")
        self._update()
        self.confirmed.emit(self.change)

    def _typed_ok(self) -> bool:
        return self._type is None or self.typed.text() == self._type

    def _update(self) -> None:
        confirming = self.pages.currentIndex() == 1
        self.back_button.setVisible(confirming and self.has_form())
        self.next_button.setVisible(not confirming)
        self.apply_button.setVisible(confirming)
        self.apply_button.setEnabled(confirming and not self.busy and self._typed_ok())
        self.back_button.setEnabled(not self.busy)
        self.cancel_button.setEnabled(not self.busy)
        if not self.busy:
            self.apply_button.setText("Apply")

    # -- outcome (the controller calls these) ----------------------------------------------------
    def show_error(self, message: str, busy: bool = False) -> None:
        """A refusal: the reason in words; nothing was written. Only Cancel/Back remain."""
        self.busy = busy
        self.error.setText(message)
        self.error.show()
        self._update()
        if self.pages.currentIndex() == 1:
            self.apply_button.setEnabled(False)
            self.cancel_button.setText("Close")

    def finish(self) -> None:
        self.busy = False
        self.accept()

    def reject(self) -> None:
        if not self.busy:  # a write in flight finishes first: its outcome must be seen
            super().reject()


class StageDialog(ChangeDialog):
    def __init__(self, model: str, version: int, stages: dict, parent=None):
        super().__init__(f"Transition {model} v{version}", parent=parent)
        self.model, self.version, self.stages = model, int(version), dict(stages)
        current = self.stages.get(self.version, "None")
        self.stage = QComboBox(objectName="stageCombo")
        for s in STAGES:
            if s != current:
                self.stage.addItem(s)
        self.archive = QCheckBox(objectName="archiveExisting")
        self.form_layout.addRow(QLabel(f"{model} v{version} is in <b>{current}</b>."))
        self.form_layout.addRow("Move to:", self.stage)
        self.form_layout.addRow(self.archive)
        self.stage.currentTextChanged.connect(self._stage_changed)
        self._stage_changed(self.stage.currentText())
        self._update()

    def _stage_changed(self, stage: str) -> None:
        can = stage in C.ARCHIVING_STAGES
        others = sorted(v for v, s in self.stages.items() if s == stage and v != self.version)
        which = ", ".join(f"v{v}" for v in others) or "none now"
        self.archive.setText(f"Archive the versions now in {stage} ({which})" if can
                             else "Archive existing versions (only when moving to Staging or Production)")
        self.archive.setEnabled(can)
        if not can:
            self.archive.setChecked(False)

    def build(self) -> C.Change:
        return C.transition(self.model, self.version, self.stage.currentText(), self.stages,
                            self.archive.isChecked())


class AliasDialog(ChangeDialog):
    def __init__(self, model: str, versions: list[int], aliases: dict, version: int | None = None,
                 parent=None):
        super().__init__(f"Alias of {model}", parent=parent)
        self.model, self.aliases = model, dict(aliases)
        self.alias = QComboBox(objectName="aliasName", editable=True)
        self.alias.addItems(sorted(self.aliases))
        self.alias.setEditText("")
        self.alias.lineEdit().setPlaceholderText("e.g. champion")
        self.version = QComboBox(objectName="aliasVersion")
        for v in sorted(versions, reverse=True):
            self.version.addItem(f"v{v}", int(v))
        if version is not None:
            self.version.setCurrentIndex(self.version.findData(int(version)))
        self.where = QLabel(objectName="aliasWhere")
        self.form_layout.addRow("Alias:", self.alias)
        self.form_layout.addRow("Points at:", self.version)
        self.form_layout.addRow(self.where)
        self.alias.editTextChanged.connect(self._where)
        self._where(self.alias.currentText())
        self._update()

    def _where(self, alias: str) -> None:
        alias = alias.strip()
        now = self.aliases.get(alias)
        self.where.setText(f"'{alias}' points at v{now} now." if now is not None else
                           (f"'{alias}' is a new alias." if alias else ""))

    def build(self) -> C.Change:
        return C.set_alias(self.model, self.alias.currentText(), self.version.currentData(),
                           self.aliases)


class DescriptionDialog(ChangeDialog):
    def __init__(self, model: str, old: str | None, version: int | None = None, parent=None):
        where = f"{model} v{version}" if version is not None else model
        super().__init__(f"Description of {where}", parent=parent)
        self.model, self.old, self.v = model, old or "", version
        self.text = QPlainTextEdit(objectName="descriptionEdit")
        self.text.setPlainText(self.old)
        self.form_layout.addRow(self.text)
        self._update()

    def build(self) -> C.Change:
        new = self.text.toPlainText()
        if self.v is None:
            return C.model_description(self.model, self.old, new)
        return C.version_description(self.model, self.v, self.old, new)


class TagDialog(ChangeDialog):
    def __init__(self, model: str, tags: dict, version: int | None = None, parent=None):
        where = f"{model} v{version}" if version is not None else model
        super().__init__(f"Tag of {where}", parent=parent)
        self.model, self.tags, self.v = model, dict(tags or {}), version
        self.key = QComboBox(objectName="tagKey", editable=True)
        self.key.addItems(sorted(self.tags))
        self.key.setEditText("")
        self.value = QLineEdit(objectName="tagValue")
        self.delete = QCheckBox("Delete this tag", objectName="tagDelete")
        self.form_layout.addRow("Key:", self.key)
        self.form_layout.addRow("Value:", self.value)
        self.form_layout.addRow(self.delete)
        self.key.editTextChanged.connect(self._key)
        self.delete.toggled.connect(lambda on: self.value.setEnabled(not on))
        self._key("")
        self._update()

    def _key(self, key: str) -> None:
        now = self.tags.get(key.strip())
        self.delete.setEnabled(now is not None)
        if now is None:
            self.delete.setChecked(False)
        else:
            self.value.setText(now)

    def build(self) -> C.Change:
        value = None if self.delete.isChecked() else self.value.text()
        return C.tag(self.model, self.key.currentText(), value, self.tags, self.v)


class RenameDialog(ChangeDialog):
    def __init__(self, model: str, names, parent=None):
        super().__init__(f"Rename {model}", parent=parent)
        self.model, self.names = model, list(names)
        self.name = QLineEdit(model, objectName="newName")
        self.form_layout.addRow("New name:", self.name)
        self._update()

    def build(self) -> C.Change:
        return C.rename(self.model, self.name.text(), self.names)


class RegisterDialog(ChangeDialog):
    """Register a run's logged model or artifact path as a new or existing model's version."""

    def __init__(self, run_id: str, candidates: list[tuple[str, str]], names, parent=None):
        super().__init__(f"Register a model from run {run_id[:12]}", parent=parent)
        self.run_id, self.names = run_id, sorted(names)
        self.source = QComboBox(objectName="registerSource", editable=True)
        for label, source in candidates:
            self.source.addItem(label, source)
        if not candidates:
            self.source.setEditText(f"runs:/{run_id}/model")
        self.name = QComboBox(objectName="registerName", editable=True)
        self.name.addItems(self.names)
        self.name.setEditText("")
        self.name.lineEdit().setPlaceholderText("a new or existing model name")
        self.form_layout.addRow("Model to register:", self.source)
        self.form_layout.addRow("Registered model:", self.name)
        self._update()

    def _source(self) -> str:
        i = self.source.currentIndex()
        if i >= 0 and self.source.currentText() == self.source.itemText(i):
            return self.source.itemData(i) or self.source.currentText()
        return self.source.currentText().strip()

    def build(self) -> C.Change:
        name = self.name.currentText().strip()
        return C.register(name, self._source(), self.run_id, new_model=name not in self.names)


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
