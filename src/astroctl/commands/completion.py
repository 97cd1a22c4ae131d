"""Shell completion: selectors from the matrix, ``--format`` values.

Completion runs on every TAB, so it loads only what it needs and never fails loudly: a matrix
that cannot be read completes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from astroctl.matrix.model import Matrix

_FORMATS = ("table", "json", "markdown")


def complete_format(incomplete: str) -> list[str]:
    return [name for name in _FORMATS if name.startswith(incomplete.lower())]


def selector_candidates(matrix: Matrix, incomplete: str) -> list[str]:
    """Every selector that starts with ``incomplete``: ``latest``, lines, minors, versions.

    ``9.1`` offers ``9.1`` itself, the ``9.1x`` minors and every release under them, in
    version order.
    """
    keyed: dict[str, tuple[Any, ...]] = {"latest": (-1,)}
    for release in matrix.releases:
        version = release.version
        keyed.setdefault(str(version.major), (version.major,))
        keyed.setdefault(f"{version.major}.{version.minor}", (version.major, version.minor))
        keyed[release.name] = (version.major, version.minor, version.patch, release.version)
    found = [text for text in keyed if text.startswith(incomplete)]
    return sorted(found, key=lambda text: _order(keyed[text]))


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # Prefixes sort before the releases under them: (9,) < (9, 1) < (9, 1, 0, ...)
    return tuple((0, part) if isinstance(part, int) else (1, 0) for part in key[:3]) + (
        (key[3],) if len(key) > 3 else ()
    )


def complete_selector(ctx: Any, incomplete: str) -> list[str]:
    """Selectors from the matrix the command line names (``--matrix``) or would discover."""
    from astroctl.errors import AstroctlError
    from astroctl.matrix import store

    option = ctx.find_root().params.get("matrix_path")
    try:
        matrix = store.load(store.locate(option).path)
    except AstroctlError:
        return []
    return selector_candidates(matrix, incomplete)
