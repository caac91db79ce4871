"""Fingerprints that decide whether an output must be built again."""

from pipeline.fingerprint import STAGE_CODE, code_fingerprint_of, code_fingerprints, config_sha256, file_sha256


def test_file_sha256(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_sha256(tmp_path / "missing") is None
    assert file_sha256(tmp_path) is None  # a folder is not a file


def test_a_changed_source_file_changes_its_stages_fingerprint_only(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "ingest.py").write_text("A = 1\n", encoding="utf-8")
    (tmp_path / "pipeline" / "publish.py").write_text("B = 1\n", encoding="utf-8")
    before = {s: code_fingerprint_of(STAGE_CODE[s], tmp_path) for s in ("ingest", "publish")}
    assert before == {s: code_fingerprint_of(STAGE_CODE[s], tmp_path) for s in ("ingest", "publish")}
    (tmp_path / "pipeline" / "ingest.py").write_text("A = 2\n", encoding="utf-8")
    after = {s: code_fingerprint_of(STAGE_CODE[s], tmp_path) for s in ("ingest", "publish")}
    assert after["ingest"] != before["ingest"]
    assert after["publish"] == before["publish"]


def test_a_renamed_file_changes_the_fingerprint(tmp_path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "a.py").write_text("X = 1\n", encoding="utf-8")
    before = code_fingerprint_of(("schemas",), tmp_path)
    (tmp_path / "schemas" / "a.py").rename(tmp_path / "schemas" / "b.py")
    assert code_fingerprint_of(("schemas",), tmp_path) != before


def test_every_stage_has_its_own_fingerprint_of_the_real_code():
    prints = code_fingerprints()
    assert set(prints) == {"ingest", "validate", "compute", "publish"}
    assert len(set(prints.values())) == 4 and all(len(p) == 64 for p in prints.values())


def test_the_shipped_configuration_has_a_checksum(tmp_path):
    assert len(config_sha256()) == 64
    other = tmp_path / "rates.toml"
    other.write_text("x = 1\n", encoding="utf-8")
    assert config_sha256(other) == file_sha256(other) != config_sha256()
