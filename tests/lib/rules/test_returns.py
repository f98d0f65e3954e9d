"""Returned mail: who stays off post, and what lifts it."""


import pandas as pd

from pipeline.lib.rules.returns import earlier_manifests, returned_addresses

MEMBERS = pd.DataFrame({
    "member_id": ["M1", "M2", "M3", "M4", "a/b"],
    "name": ["王伟", "李娜", "张敏", "刘芳", "陈杰"],
    "postal_code": ["200120", "100022", "310012", "300041", "610041"],
    "province": ["上海市", "北京市", "浙江省", "天津市", "四川省"],
    "city": ["上海市", "北京市", "杭州市", "天津市", "成都市"],
    "district": ["浦东新区", "朝阳区", "西湖区", "和平区", "武侯区"],
    "address": ["滨江大道88号", "建国路1号", "文三路4号", "南京路5号", "人民南路6号"],
}).astype("string")


def manifest(out, edition, rows):
    folder = out / edition / "letters"
    folder.mkdir(parents=True)
    pd.DataFrame(rows, columns=["piece_id", "member_id", "address_lines"]).to_csv(
        folder / "manifest.csv", index=False, encoding="utf-8-sig")


def returns(*rows):
    frame = pd.DataFrame(list(rows), columns=["piece_id", "member_id", "returned_on", "reason"])
    return frame.astype({"piece_id": "string", "member_id": "string", "reason": "string"}).assign(
        returned_on=pd.to_datetime(frame["returned_on"]))


def test_three_returned_pieces_keep_their_members_off_post(tmp_path):
    manifest(tmp_path, "2026-12", [
        ("202612-birthday-M1", "M1", "200120 | 上海市浦东新区 | 滨江大道88号 | 王伟 先生 收"),
        ("202612-birthday-M2", "M2", "100022 | 北京市朝阳区 | 建国路1号 | 李娜 女士 收"),
        ("202612-festival-winter-solstice-M3", "M3", "310012 | 浙江省杭州市西湖区 | 文三路4号 | 张敏 收"),
        ("202612-birthday-M4", "M4", "300041 | 天津市和平区 | 南京路5号 | 刘芳 收"),
    ])
    found, counts = returned_addresses(
        returns(("202612-birthday-M1", None, "2026-12-10", "查无此人"),
                ("202612-birthday-M2", None, "2026-12-11", "地址不详"),
                ("202612-festival-winter-solstice-M3", None, "2026-12-12", "拒收")),
        earlier_manifests(tmp_path, "2027-01"), MEMBERS)
    assert found["member_id"].tolist() == ["M1", "M2", "M3"]  # M4's letter arrived
    assert found["reason"].tolist() == ["查无此人", "地址不详", "拒收"]
    assert counts == {"returns": 3, "unmatched": 0, "lifted": 0}


def test_a_new_address_lifts_it_and_width_or_spaces_do_not(tmp_path):
    manifest(tmp_path, "2026-12", [
        ("202612-birthday-M1", "M1", "200120 | 上海市浦东新区 | 滨江大道88号 | 王伟 先生 收"),
        ("202612-birthday-M2", "M2", "100022 | 北京市朝阳区 | 建国路1号 | 李娜 女士 收"),
    ])
    moved = MEMBERS.copy()
    moved.loc[moved["member_id"] == "M1", "address"] = "世纪大道100号"  # moved house
    moved.loc[moved["member_id"] == "M2", "address"] = "建国路 １ 号"  # same, typed differently
    found, counts = returned_addresses(
        returns(("202612-birthday-M1", None, "2026-12-10", None),
                ("202612-birthday-M2", None, "2026-12-10", None)),
        earlier_manifests(tmp_path, "2027-01"), moved)
    assert found["member_id"].tolist() == ["M2"]
    assert counts["lifted"] == 1


def test_returns_without_a_manifest_name_their_member_by_id_or_piece(tmp_path):
    found, counts = returned_addresses(
        returns((None, "M4", "2026-12-01", None),  # by member id
                ("202612-festival-mid-autumn-a_b_c14cddc0", None, "2026-12-01", None),  # hashed id
                ("202612-birthday-M1", None, "2026-12-01", None),
                ("202612-birthday-NOBODY", None, "2026-12-01", None)),  # nobody loaded
        earlier_manifests(tmp_path, "2027-01"), MEMBERS)
    # no earlier edition says where the piece went: they stay off post until it is known
    assert found["member_id"].tolist() == ["M1", "M4", "a/b"]
    assert counts["unmatched"] == 1


def test_a_member_only_return_compares_with_their_latest_earlier_letter(tmp_path):
    manifest(tmp_path, "2026-10", [("202610-birthday-M1", "M1", "200120 | 上海市浦东新区 | 旧地址1号 | 王伟 先生 收")])
    manifest(tmp_path, "2026-11", [("202611-festival-x-M1", "M1", "200120 | 上海市浦东新区 | 滨江大道88号 | 王伟 先生 收")])
    found, _ = returned_addresses(returns((None, "M1", "2026-11-15", None)),
                                  earlier_manifests(tmp_path, "2027-01"), MEMBERS)
    assert found["member_id"].tolist() == ["M1"]  # November's address is still on file
    found, counts = returned_addresses(returns((None, "M1", "2026-10-20", None)),
                                       earlier_manifests(tmp_path, "2027-01"), MEMBERS)
    assert found.empty and counts["lifted"] == 1  # October's address has since changed


def test_only_earlier_editions_are_read(tmp_path):
    manifest(tmp_path, "2026-12", [("202612-birthday-M1", "M1", "x | y")])
    manifest(tmp_path, "2027-01", [("202701-birthday-M1", "M1", "x | y")])
    assert earlier_manifests(tmp_path, "2027-01")["edition"].tolist() == ["2026-12"]
    assert earlier_manifests(tmp_path / "none", "2027-01").empty
