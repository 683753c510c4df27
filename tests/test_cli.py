"""The operators' command line, run as operators run it."""

import os
import subprocess
import sys

from app.core.config import REPO_ROOT


def run(*args: str, data_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUASHU_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def test_documents_add_list_remove(tmp_path):
    course = tmp_path / "讲义.txt"
    course.write_text("客户情绪激动时，先倾听，再安抚，最后确认问题。", encoding="utf-8")
    added = run("documents", "add", str(course), "--kind", "course", data_dir=tmp_path / "data")
    assert added.returncode == 0, added.stderr
    document_id = added.stdout.split()[1]
    assert "already stored" in run("documents", "add", str(course), "--kind", "course", data_dir=tmp_path / "data").stdout
    listed = run("documents", "list", data_dir=tmp_path / "data").stdout
    assert document_id in listed and "讲义.txt" in listed
    assert run("documents", "remove", document_id, data_dir=tmp_path / "data").returncode == 0
    assert run("documents", "list", data_dir=tmp_path / "data").stdout == ""


def test_a_rejected_file_is_one_readable_line_and_exit_1(tmp_path):
    course = tmp_path / "scripts.txt"
    course.write_text("{}", encoding="utf-8")
    result = run("documents", "add", str(course), "--kind", "script", data_dir=tmp_path / "data")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: scripts are uploaded as .jsonl records in the corpus schema"


def test_search_prints_how_well_the_scripts_fit(settings, index_version, tmp_path):
    env = {**os.environ, "HUASHU_INDEX_DIR": str(settings.index_dir), "HUASHU_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "app", "search", "红烧肉怎么做才好吃"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "匹配程度: 没有相符的话术" in result.stdout
