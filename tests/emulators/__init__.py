"""Provider emulators: Anthropic, OpenAI, Google Gemini and Ollama wire protocols on loopback."""

from tests.emulators.behaviour import Behaviour, EmulatorState
from tests.emulators.server import Emulator, create_emulator_app

__all__ = ["Behaviour", "Emulator", "EmulatorState", "create_emulator_app"]
