"""The OS keychain: the only module of Workjet that touches ``keyring``.

Security contract: a credential is stored only in a secure system keychain (the
Secret Service on Linux, the macOS Keychain, the Windows Credential Manager). Every
other backend — ``fail``, ``null``, ``keyrings.alt`` plaintext or "encrypted" files,
anything chosen through ``PYTHON_KEYRING_BACKEND`` that is not on the list — is
refused with a message saying what to install or set. There is no fallback to a file.

For headless servers :class:`MemoryKeychain` keeps the credential in this process's
memory only, for the life of the process; the person asks for it explicitly
(``workjet --memory-only``).

Items live under the service name ``workjet``, one item per secret; the account name
says what the secret is for (``gateway:https://example.org``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "workjet"

# Backends that keep secrets in an OS-protected store, by "module.ClassName".
SECURE_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",  # also the Secret Service, through libsecret
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)

HOW_TO_FIX = (
    "Install and unlock a Secret Service (for example `apt install gnome-keyring` and "
    "sign in to a desktop session, or run `gnome-keyring-daemon --unlock` inside a D-Bus "
    "session); macOS and Windows use the system keychain. Unset PYTHON_KEYRING_BACKEND "
    "if it names another backend, and uninstall keyrings.alt. On a headless server, run "
    "`workjet --memory-only` to keep the credential in memory for this session only."
)


class KeychainError(RuntimeError):
    """No secure keychain can hold the credential; the message says what to do."""


class CredentialStore(Protocol):
    """Where the client keeps a credential; never a file."""

    description: str

    def check(self) -> None: ...

    def get(self, account: str) -> str | None: ...

    def set(self, account: str, secret: str) -> None: ...

    def delete(self, account: str) -> bool: ...


def account_for(gateway_url: str) -> str:
    """The keychain account name of the credential for one gateway."""
    return "gateway:" + gateway_url.rstrip("/")


def backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def secure_backend() -> KeyringBackend:
    """The system's secure keyring backend, or ``KeychainError`` saying what to install."""
    import keyring
    from keyring.backends.chainer import ChainerBackend
    from keyring.errors import KeyringError

    try:
        chosen = keyring.get_keyring()
    except (KeyringError, RuntimeError, OSError) as exc:
        raise KeychainError(f"The system keychain could not start ({exc}). {HOW_TO_FIX}") from exc
    candidates = list(chosen.backends) if isinstance(chosen, ChainerBackend) else [chosen]
    for candidate in candidates:
        if backend_name(candidate) in SECURE_BACKENDS and _priority(candidate) >= 1:
            return candidate
    names = ", ".join(backend_name(c) for c in candidates) or backend_name(chosen)
    raise KeychainError(
        f"No secure keychain is available (keyring chose {names}, which Workjet refuses "
        f"because it would not store the credential safely). {HOW_TO_FIX}"
    )


def _priority(backend: object) -> float:
    try:
        return float(backend.priority)  # type: ignore[attr-defined]
    except Exception:
        return -1.0


class SystemKeychain:
    """The OS keychain, checked to be secure before the first use."""

    description = "system keychain"

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def _resolve(self) -> KeyringBackend:
        if self._backend is None:
            self._backend = secure_backend()
        return self._backend

    def check(self) -> None:
        """Raise ``KeychainError`` now if no secure keychain can be used."""
        self._call(lambda b: b.get_password(SERVICE, "workjet-probe"))

    def get(self, account: str) -> str | None:
        result = self._call(lambda b: b.get_password(SERVICE, account))
        return result if isinstance(result, str) else None

    def set(self, account: str, secret: str) -> None:
        self._call(lambda b: b.set_password(SERVICE, account, secret))
        if self.get(account) != secret:  # a backend that drops secrets must not pass
            raise KeychainError(f"The keychain did not keep the credential. {HOW_TO_FIX}")

    def delete(self, account: str) -> bool:
        from keyring.errors import PasswordDeleteError

        try:
            self._call(lambda b: b.delete_password(SERVICE, account))
        except KeychainError as exc:
            if isinstance(exc.__cause__, PasswordDeleteError):
                return False
            raise
        return True

    def _call(self, fn: _BackendCall) -> object:
        from keyring.errors import KeyringError

        backend = self._resolve()
        try:
            return fn(backend)
        except KeyringError as exc:
            # NoKeyringError, InitError (no unlocked keyring, prompt dismissed),
            # KeyringLocked, PasswordDeleteError... become one clear error.
            raise KeychainError(
                f"The system keychain refused the request ({type(exc).__name__}: {exc}). "
                f"{HOW_TO_FIX}"
            ) from exc


class _BackendCall(Protocol):
    def __call__(self, backend: KeyringBackend, /) -> object: ...


class MemoryKeychain:
    """Keeps credentials in this process's memory only; gone when the process ends."""

    description = "memory only (this session)"

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def check(self) -> None:
        return None

    def get(self, account: str) -> str | None:
        return self._items.get(account)

    def set(self, account: str, secret: str) -> None:
        self._items[account] = secret

    def delete(self, account: str) -> bool:
        return self._items.pop(account, None) is not None


def open_keychain(*, memory_only: bool = False) -> SystemKeychain | MemoryKeychain:
    """The credential store the person chose: the OS keychain, or memory only."""
    return MemoryKeychain() if memory_only else SystemKeychain()
