"""Views of ``constraints resolve``: what the set was made from, what the release changed in it,
and whether it installs.

The table lists the release's overrides and additions (the upstream pins left as they were are
only counted); the lines under it say where the file went, where the upstream file came from
(with its SHA-256) and what uv proved. JSON carries the same facts as fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from astroctl.render import streams, table
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.providers.constraints import Resolution

_ORIGINS: Mapping[str, str] = MappingProxyType(
    {"network": "fetched", "cache": "from the cache", "file": "read from a file"}
)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _title(result: Resolution) -> str:
    release = result.release
    image = f" ({result.flavor} image)" if result.flavor is not None else ""
    return (
        f"Constraints of Astro Runtime {release.name}{image} for Python {result.python} "
        f"(Airflow {release.airflow})"
    )


def summary(result: Resolution, path: str | None) -> list[str]:
    """The lines under the table: the file, the upstream, the check and the hashes."""
    merged = result.overlay
    where = f"wrote {path}" if path is not None else f"printed {result.filename}"
    if result.upstream is None:
        counts = "resolved by uv"
    else:
        counts = (
            f"{merged.kept} as upstream, {len(merged.overrides)} overridden, "
            f"{len(merged.added)} added by the release"
        )
    lines = [f"{where}: {_plural(len(merged.pins), 'pin')} ({counts})"]
    upstream = result.upstream
    if upstream is not None and result.shown_upstream_url is not None:
        origin = _ORIGINS.get(upstream.origin, upstream.origin)
        lines.append(f"upstream: {result.shown_upstream_url} ({origin}, sha256:{upstream.sha256})")
        if upstream.previous_sha256 is not None:
            lines.append(f"upstream changed since cached: was sha256:{upstream.previous_sha256}")
    else:
        lines.append(
            f"upstream: none; the set was resolved by uv {result.inputs.uv_version} "
            f"from apache-airflow=={result.release.airflow} and {result.image} pins"
        )
    if result.checks:
        platforms = " and ".join(f"linux/{c.architecture}" for c in result.checks)
        lines.append(f"check: installs on {platforms} ({_cutoff(result)})")
        lines.extend(
            f"  {c.architecture}: not pinned by the set: {', '.join(c.unpinned)}"
            for c in result.checks
            if c.unpinned
        )
        lines.extend(
            f"  {b.requirement} on {', '.join(b.architectures)}: no wheel for Python "
            f"{result.python}, built from source; {b.detail}"
            for b in result.built_from_source
        )
    if result.hashes is not None:
        hashed = sum(1 for digests in result.hashes.values() if digests)
        lines.append(f"hashes: {hashed} of {_plural(len(merged.pins), 'pin')} carry hashes")
    return lines


def _cutoff(result: Resolution) -> str:
    on = result.shown_index_url or "the index"
    day = result.inputs.exclude_newer
    return f"uv {result.inputs.uv_version}, {on}, " + (
        f"files uploaded by {day.isoformat()}" if day is not None else "no date cutoff"
    )


def payload(result: Resolution, path: str | None) -> dict[str, Any]:
    """The JSON document of a resolution."""
    release, merged, upstream, inputs = (
        result.release,
        result.overlay,
        result.upstream,
        result.inputs,
    )
    return {
        "release": release.name,
        "airflow": release.airflow,
        "flavor": result.flavor,
        "python": result.python,
        "file": result.filename,
        "path": path,
        "pins": len(merged.pins),
        "kept": merged.kept,
        "upstream": None
        if upstream is None
        else {
            "url": result.shown_upstream_url,
            "sha256": upstream.sha256,
            "origin": upstream.origin,
            "previous_sha256": upstream.previous_sha256,
        },
        "overrides": [
            {"package": o.package, "upstream": o.upstream, "release": o.release}
            for o in merged.overrides
        ],
        "added": [{"package": p.name, "version": p.version} for p in merged.added],
        "checks": [
            {
                "architecture": c.architecture,
                "platform": c.platform,
                "ok": c.ok,
                "unpinned": list(c.unpinned),
                "from_source": list(c.from_source),
            }
            for c in result.checks
        ],
        "source_builds": [
            {
                "pin": b.requirement,
                "architectures": list(b.architectures),
                "kind": b.kind,
                "detail": b.detail,
            }
            for b in result.built_from_source
        ],
        "hashes": result.hashes is not None,
        "index": result.shown_index_url,
        "index_origin": inputs.index.origin if inputs.index is not None else None,
        "extra_index_urls": list(result.shown_extra_index_urls),
        "exclude_newer": inputs.exclude_newer,
        "uv": inputs.uv_version,
    }


def _grid(result: Resolution) -> Grid:
    merged = result.overlay
    rows = [(o.package, o.upstream, o.release, "override") for o in merged.overrides]
    origin = "added" if result.upstream is not None else "resolved"
    rows += [(p.name, "", p.version, origin) for p in merged.added]
    rows.sort(key=lambda row: row[0])
    return Grid(
        _title(result),
        ("Package", "Upstream", "Release", "Change"),
        tuple(rows),
        wrap=frozenset(),
    )


def resolution(result: Resolution, fmt: Format, *, path: str | None) -> None:
    """``constraints resolve``: the release's changes to upstream, and what was written."""
    lines = summary(result, path)
    if fmt is Format.json:
        emit(fmt, [], payload(result, path))
        return
    grids: Sequence[Grid] = [_grid(result)] if _grid(result).rows else []
    if fmt is Format.markdown:
        tables = "\n\n".join(table.markdown(g) for g in grids)
        prose = "\n\n".join(_markdown_text(line) for line in lines)
        emit(fmt, grids, None, f"{tables}\n\n{prose}" if tables else prose)
        return
    if grids:
        table.draw(grids)
        streams.out("\n")
    else:
        streams.out(f"{streams.printable(_title(result))}\n\n")
    streams.out("".join(f"{streams.printable(line)}\n" for line in lines))


def printed(result: Resolution) -> None:
    """The file itself on stdout (``--output -``); the summary goes to stderr."""
    streams.out(result.text)
    for line in summary(result, None):
        streams.note(line)


def _markdown_text(text: str) -> str:
    safe = streams.printable(text)
    for char in ("\\", "*", "_", "`", "|", "<", "[", "]"):
        safe = safe.replace(char, f"\\{char}")
    return safe
