"""The export inbox: which dropped folders are ready to be read."""

import os
import time

from pipeline.lib.read.inbox import ready_folders

NOW = time.time()


def _drop(inbox, name, files, age_seconds=600):
    folder = inbox / name
    folder.mkdir(parents=True)
    for file_name, text in files.items():
        path = folder / file_name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (NOW - age_seconds, NOW - age_seconds))
    return folder


def test_a_settled_folder_with_members_is_ready(tmp_path):
    _drop(tmp_path, "2026-11-20", {"members.csv": "member_id,name\nM1,王伟\n"})
    ready = ready_folders(tmp_path, NOW, settle_seconds=60)
    assert [f.path.name for f in ready] == ["2026-11-20"]
    assert ready[0].run_key.startswith("2026-11-20:")


def test_chinese_file_names_count_as_a_members_export(tmp_path):
    _drop(tmp_path, "crm", {"会员.csv": "会员编号,姓名\nM1,王伟\n"})
    assert [f.path.name for f in ready_folders(tmp_path, NOW, 60)] == ["crm"]


def test_a_folder_still_being_written_waits(tmp_path):
    _drop(tmp_path, "copying", {"members.csv": "member_id,name\n"}, age_seconds=5)
    assert ready_folders(tmp_path, NOW, settle_seconds=60) == []


def test_folders_without_members_and_hidden_ones_are_ignored(tmp_path):
    _drop(tmp_path, "only-transactions", {"transactions.csv": "member_id\n"})
    _drop(tmp_path, ".partial", {"members.csv": "member_id,name\n"})
    (tmp_path / "stray.csv").write_text("member_id,name\n", encoding="utf-8")
    assert ready_folders(tmp_path, NOW, 60) == []


def test_new_files_give_a_new_run_key_and_untouched_ones_the_same(tmp_path):
    folder = _drop(tmp_path, "drop", {"members.csv": "member_id,name\nM1,王伟\n"})
    first = ready_folders(tmp_path, NOW, 60)[0].run_key
    assert ready_folders(tmp_path, NOW + 3600, 60)[0].run_key == first  # never runs twice
    (folder / "transactions.csv").write_text("member_id\n", encoding="utf-8")
    os.utime(folder / "transactions.csv", (NOW - 600, NOW - 600))
    assert ready_folders(tmp_path, NOW, 60)[0].run_key != first


def test_a_missing_inbox_is_simply_empty(tmp_path):
    assert ready_folders(tmp_path / "nowhere", NOW, 60) == []
