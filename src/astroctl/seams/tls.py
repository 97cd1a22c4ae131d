"""The HTTP seam's TLS context: verification always on, the trust loaded when first needed.

Loading a CA bundle into a context costs ~20 ms (a few hundred certificates parsed); a run that
speaks only plain http (a loopback or internal index) never needs it. :class:`TrustOnUse` is a
client context (certificates and host names verified, as ``ssl.create_default_context`` makes
it) whose trust is loaded by :meth:`TrustOnUse.load`, which the HTTP seam calls before an https
request, and at the latest by its first handshake (``wrap_socket``/``wrap_bio``: a redirect
from http to https, an https proxy). It never verifies less: before the trust is loaded it
trusts nothing. This module imports ``ssl``; the HTTP seam imports it only to build its client.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import Any

from astroctl.errors import InputError


class TrustOnUse(ssl.SSLContext):
    """A client TLS context whose trust is ``bundle`` (named by ``source``, such as
    ``$SSL_CERT_FILE``), else the system trust store, else certifi's bundle (httpx's own)."""

    bundle: Path | None
    source: str
    origin: str  # where the trust comes from, as an error names it

    def __new__(cls, bundle: Path | None, source: str = "") -> TrustOnUse:
        del bundle, source
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self, bundle: Path | None, source: str = "") -> None:
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        self.bundle = bundle
        self.source = source
        self._loading = threading.Lock()
        self._loaded = False
        if bundle is not None:
            self.origin = f"the CA bundle {bundle} (from {source})"
        elif system_trust():
            self.origin = "the system trust store"
        else:
            self.origin = "certifi's CA bundle"

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        """Load the trust (once); an InputError when the bundle is missing or not PEM."""
        with self._loading:
            if self._loaded:
                return
            if self.bundle is not None:
                if not self.bundle.is_file():
                    raise InputError(f"CA bundle {self.bundle} (from {self.source}): no such file")
                try:
                    self.load_verify_locations(cafile=str(self.bundle))
                except ssl.SSLError as exc:
                    raise InputError(
                        f"CA bundle {self.bundle} (from {self.source}): not a PEM bundle"
                    ) from exc
            elif system_trust():
                self.load_default_certs(ssl.Purpose.SERVER_AUTH)
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        self.load()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        self.load()
        return super().wrap_bio(*args, **kwargs)


def system_trust() -> bool:
    """Whether the system has a trust store (a CA file or directory; ``$SSL_CERT_DIR`` too)."""
    defaults = ssl.get_default_verify_paths()
    return defaults.cafile is not None or defaults.capath is not None
