"""A version copied from another node (`version_files` → `receive_version`): it arrives whole and
checked, or not at all."""

import pytest

from app.index.store import (
    CorruptIndex,
    IndexVersion,
    MANIFEST_FILE,
    list_versions,
    receive_version,
    version_files,
    versions_dir,
)


def test_a_version_received_whole_loads_as_the_original(settings, index_version, tmp_path):
    files = version_files(settings.index_dir, index_version)
    assert MANIFEST_FILE in files and len(files) > 5
    receive_version(tmp_path, index_version, files)
    assert list_versions(tmp_path) == [index_version]
    copy = IndexVersion.load(tmp_path, index_version)
    assert copy.manifest == IndexVersion.load(settings.index_dir, index_version).manifest
    assert [p.name for p in versions_dir(tmp_path).iterdir()] == [index_version]  # nothing left beside it


@pytest.mark.parametrize("damage", ["truncated", "flipped", "missing", "no manifest", "outside"])
def test_a_version_damaged_on_the_way_is_refused_and_nothing_is_installed(settings, index_version, tmp_path, damage):
    files = version_files(settings.index_dir, index_version)
    name = next(path for path in files if path != MANIFEST_FILE and len(files[path]) > 100)
    if damage == "truncated":
        files[name] = files[name][:-10]
    elif damage == "flipped":
        files[name] = bytes([files[name][0] ^ 1]) + files[name][1:]
    elif damage == "missing":
        del files[name]
    elif damage == "no manifest":
        del files[MANIFEST_FILE]
    else:
        files["../../escaped"] = b"x"
    with pytest.raises(CorruptIndex):
        receive_version(tmp_path, index_version, files)
    assert list_versions(tmp_path) == []
    assert not versions_dir(tmp_path).exists() or not any(versions_dir(tmp_path).iterdir())  # nothing half-received
    assert not (tmp_path / "escaped").exists()
