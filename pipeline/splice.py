"""Files assembled from pieces: new bytes, or byte ranges of an earlier file.

The national package holds every report's rows; when one report changes, the rows of
the others are the bytes of the previous national package. This module writes such
files piece by piece (:class:`SplicedFile`: size, SHA-256, CRC-32 and where each
named piece landed) and zip archives whose entries are sequences of independently
deflated pieces (:func:`deflate_piece`, :func:`write_zip`), so that a later archive
copies the compressed pieces of unchanged reports instead of compressing them again.

A piece is deflated by a fresh compressor and ended by a full flush: it refers to no
byte before it and ends on a byte boundary, so pieces concatenated, then
:data:`FINAL_PIECE`, make one valid deflate stream (what ``pigz`` does in parallel).

Bytes taken from an earlier file are verified as they are read: a file given with its
recorded size and SHA-256 (:data:`Recorded`) is read once, front to back, and every
byte of it is hashed, those copied and those skipped, in the very buffers that are
copied; when the last range is taken, the rest of the file is read and the digest
compared (:class:`SourceChanged` if it differs). So nothing is copied that was not
proved to be the recorded bytes, without a separate pass over the file, and no one
can change the file between the check and the copy.

What belongs here: the byte-level assembly and the zip format. What a piece holds
(rows of a report, separators) belongs to :mod:`pipeline.publish`.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

#: zlib's default level, the one :mod:`zipfile` deflates with.
DEFLATE_LEVEL = 6
#: Raw deflate (no zlib header): the form zip entries hold.
RAW_DEFLATE_BITS = -15
#: The largest size or offset a zip without ZIP64 records.
ZIP32_LIMIT = 0xFFFFFFFF


def deflate_piece(data: bytes) -> bytes:
    """``data`` deflated on its own, ended by a full flush (never the last block)."""
    compressor = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, RAW_DEFLATE_BITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


#: The empty last block that ends a stream of pieces.
FINAL_PIECE = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, RAW_DEFLATE_BITS).flush(zlib.Z_FINISH)


#: Bytes read at once from the parts of an earlier file skipped over (hashed, not copied).
SKIP_CHUNK = 1 << 20
#: An earlier file's recorded (size, SHA-256), by path.
Recorded = dict[Path, tuple[int, str]]


class SourceChanged(ValueError):
    """An earlier file is not as recorded (size or SHA-256): nothing taken from it may be kept."""

    def __init__(self, path: Path):
        super().__init__(f"{path} is not as recorded")
        self.path = Path(path)

    def __reduce__(self):
        return type(self), (self.path,)


#: Named spans within a piece: (name, start, stop), offsets from the piece's first byte.
Parts = tuple[tuple[str, int, int], ...] | list[tuple[str, int, int]]


@dataclass(frozen=True)
class Range:
    """Bytes ``start`` to ``stop`` of the file at ``path``."""

    path: Path
    start: int
    stop: int


class SplicedFile:
    """A file written piece by piece: bytes, or :class:`Range` of earlier files.

    Tracks its size, SHA-256 and CRC-32 and, for each named part of a piece
    (:data:`Parts`), the span (start, stop) it occupies.
    """

    def __init__(self, path: Path, recorded: Recorded | None = None):
        self.path = Path(path)
        self._out = self.path.open("wb")
        self._sha = hashlib.sha256()
        self._sources = Sources(recorded)
        self.crc = 0
        self.size = 0
        self.spans: dict[str, tuple[int, int]] = {}

    def write(self, data: bytes, parts: Parts = ()) -> None:
        self._note(parts)
        self._take(data)

    def copy(self, source: Range, parts: Parts = ()) -> None:
        """Append ``source``'s bytes."""
        self._note(parts)
        self._take(self._sources.read(source))

    def _note(self, parts: Parts) -> None:
        for name, start, stop in parts:
            self.spans[name] = (self.size + start, self.size + stop)

    def _take(self, data: bytes) -> None:
        self._out.write(data)
        self._sha.update(data)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)

    def close(self) -> tuple[int, str]:
        """Close the file; return (size, SHA-256).

        Raises:
            SourceChanged: an earlier file given as recorded is not (what was copied
                from it must not be used).
        """
        self._out.close()
        self._sources.close()
        return self.size, self._sha.hexdigest()


class VerifiedReader:
    """An earlier file read front to back, every byte hashed, and checked against its
    recorded size and SHA-256 at :meth:`finish`."""

    def __init__(self, path: Path, size: int, sha256: str):
        self.path, self._recorded = Path(path), (size, sha256)
        self._fh = self.path.open("rb")
        self._sha = hashlib.sha256()
        self._position = 0
        if os.fstat(self._fh.fileno()).st_size != size:
            self._fh.close()
            raise SourceChanged(self.path)

    def read(self, start: int, stop: int) -> bytes:
        """Bytes ``start`` to ``stop``, after every byte before them not read yet.

        Raises:
            SourceChanged: the range starts before bytes already read (they can no
                longer be verified in order) or ends past the file.
        """
        if start < self._position:
            raise SourceChanged(self.path)
        self._skip_to(start)
        data = self._fh.read(stop - start)
        self._sha.update(data)
        self._position += len(data)
        if len(data) != stop - start:
            raise SourceChanged(self.path)
        return data

    def _skip_to(self, offset: int) -> None:
        while self._position < offset:
            data = self._fh.read(min(SKIP_CHUNK, offset - self._position))
            if not data:
                raise SourceChanged(self.path)
            self._sha.update(data)
            self._position += len(data)

    def finish(self) -> None:
        """Hash the rest of the file and close it; SourceChanged if it is not as recorded."""
        try:
            while data := self._fh.read(SKIP_CHUNK):
                self._sha.update(data)
                self._position += len(data)
        finally:
            self._fh.close()
        if (self._position, self._sha.hexdigest()) != self._recorded:
            raise SourceChanged(self.path)

    def close(self) -> None:
        self._fh.close()


class Sources:
    """Earlier files read by :class:`Range`, each opened once; those in ``recorded``
    verified as they are read (:class:`VerifiedReader`)."""

    def __init__(self, recorded: Recorded | None = None):
        self._recorded = {Path(p): v for p, v in (recorded or {}).items()}
        self._open: dict[Path, object] = {}
        self._verified: dict[Path, VerifiedReader] = {}

    def read(self, source: Range) -> bytes:
        """The bytes of ``source``; ValueError if its file ends before (SourceChanged
        for a file with a record)."""
        path = Path(source.path)
        if path in self._recorded:
            reader = self._verified.get(path)
            if reader is None:
                reader = self._verified[path] = VerifiedReader(path, *self._recorded[path])
            return reader.read(source.start, source.stop)
        fh = self._open.get(path)
        if fh is None:
            fh = self._open[path] = path.open("rb")
        fh.seek(source.start)
        data = fh.read(source.stop - source.start)
        if len(data) != source.stop - source.start:
            raise ValueError(f"{source.path} ends before byte {source.stop}")
        return data

    def close(self) -> None:
        """Close every file; SourceChanged if a file read with a record is not as recorded."""
        for fh in self._open.values():
            fh.close()
        self._open.clear()
        readers, self._verified = list(self._verified.values()), {}
        try:
            for reader in readers:
                reader.finish()
        finally:
            for reader in readers:
                reader.close()


@dataclass
class ZipEntry:
    """One zip entry: its name, the size and CRC-32 of its content, and its deflated
    pieces in order (bytes, or a :class:`Range` of an earlier archive), each with its
    named parts (``parts[i]`` for ``pieces[i]``); :data:`FINAL_PIECE` is added on writing."""

    name: str
    size: int
    crc: int
    pieces: list[bytes | Range] = field(default_factory=list)
    parts: list[Parts] = field(default_factory=list)

    def add(self, piece: bytes | Range, parts: Parts = ()) -> None:
        self.pieces.append(piece)
        self.parts.append(parts)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


#: Version 2.0 of the zip format (deflate), made on Unix (3): what zipfile writes.
ZIP_VERSION = 20
ZIP_MADE_BY = (3 << 8) | ZIP_VERSION
ZIP_DEFLATED = 8
#: Permissions of the files in the archive (-rw-r--r--), in the external attributes.
ZIP_FILE_ATTRIBUTES = 0o644 << 16


def write_zip(
    target: Path, entries: list[ZipEntry], date_time: tuple, recorded: Recorded | None = None
) -> dict[str, dict[str, tuple[int, int]]]:
    """Write the archive ``target`` of ``entries`` (in the order given); return, per
    entry, the span in ``target`` of each named part of its pieces. Pieces taken from
    the earlier archives of ``recorded`` are verified as they are read (:class:`Sources`).

    Raises:
        ValueError: an entry or the archive is too large for a zip without ZIP64.
        SourceChanged: an earlier archive of ``recorded`` is not as recorded.
    """
    dos_time, dos_date = _dos_time(date_time)
    spans: dict[str, dict[str, tuple[int, int]]] = {}
    central = []
    sources = Sources(recorded)
    with Path(target).open("wb") as out:
        for entry in entries:
            offset = out.tell()
            name = entry.name.encode("utf-8")
            lengths = [p.stop - p.start if isinstance(p, Range) else len(p) for p in entry.pieces]
            compressed = sum(lengths) + len(FINAL_PIECE)
            if max(entry.size, compressed, offset) > ZIP32_LIMIT:
                raise ValueError(f"{entry.name}: too large for a zip without ZIP64")
            fixed = (ZIP_VERSION, 0, ZIP_DEFLATED, dos_time, dos_date, entry.crc, compressed, entry.size, len(name))
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fixed, 0) + name)
            spans[entry.name] = {}
            for piece, parts in zip(entry.pieces, entry.parts):
                start = out.tell()
                out.write(sources.read(piece) if isinstance(piece, Range) else piece)
                for part, part_start, part_stop in parts:
                    spans[entry.name][part] = (start + part_start, start + part_stop)
            out.write(FINAL_PIECE)
            central.append(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII", 0x02014B50, ZIP_MADE_BY, *fixed, 0, 0, 0, 0, ZIP_FILE_ATTRIBUTES, offset
                )
                + name
            )
        directory_offset = out.tell()
        directory = b"".join(central)
        if directory_offset + len(directory) > ZIP32_LIMIT:
            raise ValueError(f"{target}: too large for a zip without ZIP64")
        out.write(directory)
        out.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), directory_offset, 0)
        )
    sources.close()
    return spans
