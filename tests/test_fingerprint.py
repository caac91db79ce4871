"""Fingerprints that decide whether a report must be processed again."""

from pipeline.fingerprint import code_fingerprint, file_sha256


def test_file_sha256(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_sha256(tmp_path / "missing") is None


def test_code_fingerprint_is_stable():
    assert code_fingerprint() == code_fingerprint()
    assert len(code_fingerprint()) == 64
