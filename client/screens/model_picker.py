"""Pick the model of the conversation from the gateway's catalog."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from shared.models import ModelDescriptor


def describe_model(model: ModelDescriptor) -> str:
    return (
        f"{model.id}  ({model.provider}, {model.context_window // 1000}k context, "
        f"${model.input_price_per_mtok:g}/${model.output_price_per_mtok:g} per Mtok)"
    )


class ModelPickerScreen(ModalScreen[str | None]):
    CSS_PATH = "model_picker.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, models: list[ModelDescriptor], current: str = "") -> None:
        super().__init__()
        self._models = models
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Model (Enter picks, Esc cancels)", classes="hint")
            yield OptionList(
                *(Option(describe_model(m), id=m.id) for m in self._models), id="models"
            )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [m.id for m in self._models]
        if self._current in ids:
            options.highlighted = ids.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
