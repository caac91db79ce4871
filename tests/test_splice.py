"""Files and zips assembled from pieces (pipeline.splice)."""

from __future__ import annotations

import hashlib
import zipfile
import zlib

import pytest

from pipeline.splice import FINAL_PIECE, Range, SourceChanged, SplicedFile, ZipEntry, deflate_piece, write_zip

DATE_TIME = (1980, 1, 1, 0, 0, 0)


def test_pieces_deflated_apart_make_one_stream():
    first, second = b"pan-a,1,texte\n" * 300, b"pan-b,2,autre\n" * 200
    stream = deflate_piece(first) + deflate_piece(second) + FINAL_PIECE
    assert zlib.decompress(stream, -15) == first + second


def test_a_spliced_file_records_its_size_hashes_and_where_each_named_piece_is(tmp_path):
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes(b"header\nAAAA\nBBBB\n")
    out = SplicedFile(tmp_path / "new.csv")
    out.write(b"header\n")
    out.copy(Range(earlier, 7, 17), [("a", 0, 5), ("b", 5, 10)])
    out.write(b"CC\n", [("c", 0, 3)])
    size, sha = out.close()
    data = (tmp_path / "new.csv").read_bytes()
    assert data == b"header\nAAAA\nBBBB\nCC\n"
    assert (size, sha, out.crc) == (len(data), hashlib.sha256(data).hexdigest(), zlib.crc32(data))
    assert out.spans == {"a": (7, 12), "b": (12, 17), "c": (17, 20)}


def test_a_range_past_the_end_of_its_file_is_an_error(tmp_path):
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes(b"short")
    out = SplicedFile(tmp_path / "new.csv")
    with pytest.raises(ValueError, match="ends before byte 9"):
        out.copy(Range(earlier, 2, 9))
    out.close()


EARLIER = b"header\nAAAA\nBBBB\nCCCC\n"


def recorded_file(tmp_path, data: bytes = EARLIER):
    path = tmp_path / "earlier.csv"
    path.write_bytes(data)
    return path, {path: (len(data), hashlib.sha256(data).hexdigest())}


def test_ranges_of_a_recorded_file_are_copied_once_the_whole_file_is_proved_as_recorded(tmp_path):
    earlier, recorded = recorded_file(tmp_path)
    out = SplicedFile(tmp_path / "new.csv", recorded)
    out.copy(Range(earlier, 7, 12), [("a", 0, 5)])
    out.copy(Range(earlier, 17, 22), [("c", 0, 5)])
    size, sha = out.close()
    assert (tmp_path / "new.csv").read_bytes() == b"AAAA\nCCCC\n"
    assert (size, sha) == (10, hashlib.sha256(b"AAAA\nCCCC\n").hexdigest())


@pytest.mark.parametrize(
    "changed",
    [
        EARLIER.replace(b"AAAA", b"AAAB"),  # in a range copied
        EARLIER.replace(b"BBBB", b"BBBX"),  # in bytes skipped between ranges
        EARLIER.replace(b"CCCC\n", b"CCCC!"),  # after the last range
        EARLIER.replace(b"header", b"HEADER"),  # before the first range
        EARLIER + b"DDDD\n",  # longer
    ],
    ids=["copied", "skipped", "after", "before", "longer"],
)
def test_a_recorded_file_changed_anywhere_is_refused(tmp_path, changed):
    earlier, recorded = recorded_file(tmp_path)
    earlier.write_bytes(changed)
    out = SplicedFile(tmp_path / "new.csv", recorded)
    with pytest.raises(SourceChanged) as raised:
        out.copy(Range(earlier, 7, 12))
        out.copy(Range(earlier, 12, 17))
        out.close()
    assert raised.value.path == earlier


def test_a_recorded_file_read_out_of_order_is_refused(tmp_path):
    earlier, recorded = recorded_file(tmp_path)
    out = SplicedFile(tmp_path / "new.csv", recorded)
    out.copy(Range(earlier, 12, 17))
    with pytest.raises(SourceChanged):
        out.copy(Range(earlier, 7, 12))


def test_a_zip_of_pieces_reads_back_and_a_later_zip_reuses_its_pieces(tmp_path):
    a, b = b"pan-a\n" * 500, b"pan-b\n" * 700
    entry = ZipEntry("data/t.csv", len(a + b), zlib.crc32(a + b))
    deflated_a, deflated_b = deflate_piece(a), deflate_piece(b)
    entry.add(
        deflated_a + deflated_b,
        [("pan-a", 0, len(deflated_a)), ("pan-b", len(deflated_a), len(deflated_a) + len(deflated_b))],
    )
    small = ZipEntry("datapackage.json", 2, zlib.crc32(b"{}"), [deflate_piece(b"{}")], [()])
    spans = write_zip(tmp_path / "one.zip", [small, entry], DATE_TIME)
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["datapackage.json", "data/t.csv"]
        assert archive.read("data/t.csv") == a + b
        info = archive.getinfo("data/t.csv")
        assert (info.date_time, info.external_attr >> 16, info.compress_type) == (
            DATE_TIME,
            0o644,
            zipfile.ZIP_DEFLATED,
        )
    assert set(spans["data/t.csv"]) == {"pan-a", "pan-b"} and spans["datapackage.json"] == {}

    c = b"pan-c\n" * 10
    later = ZipEntry("data/t.csv", len(b + c), zlib.crc32(b + c))
    later.add(Range(tmp_path / "one.zip", *spans["data/t.csv"]["pan-b"]))
    later.add(deflate_piece(c))
    write_zip(tmp_path / "two.zip", [later], DATE_TIME)
    with zipfile.ZipFile(tmp_path / "two.zip") as archive:
        assert archive.testzip() is None
        assert archive.read("data/t.csv") == b + c

    one = (tmp_path / "one.zip").read_bytes()
    recorded = {tmp_path / "one.zip": (len(one), hashlib.sha256(one).hexdigest())}
    write_zip(tmp_path / "three.zip", [later], DATE_TIME, recorded)
    assert (tmp_path / "three.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    (tmp_path / "one.zip").write_bytes(one[:-1] + bytes([one[-1] ^ 1]))  # its last byte, not a piece taken
    with pytest.raises(SourceChanged):
        write_zip(tmp_path / "four.zip", [later], DATE_TIME, recorded)
