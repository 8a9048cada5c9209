"""The serving store: a real rocksdict on disk, its offsets written with the data, and a
secondary that sees the primary's writes."""

from serving.store import PROFILES, RECOMMENDATIONS, Change, Store


def test_offsets_are_written_with_the_data_and_survive_a_reopen(tmp_path):
    s = Store(tmp_path / "db")
    s.apply([Change(PROFILES, "u1", b"p1")], {("user_profiles", 1): 10, ("recommendations", 0): 3})
    s.close()
    s = Store(tmp_path / "db")
    assert s.get(PROFILES, "u1") == b"p1"
    assert s.offsets() == {("user_profiles", 1): 10, ("recommendations", 0): 3}
    assert s.count(PROFILES) == 1 and s.count(RECOMMENDATIONS) == 0
    s.close()


def test_a_secondary_sees_the_primarys_writes_after_catching_up(tmp_path):
    primary = Store(tmp_path / "db")
    secondary = Store(tmp_path / "secondary", secondary_of=tmp_path / "db")
    primary.apply([Change(PROFILES, "u1", b"p1")], {})
    secondary.catch_up()
    assert secondary.get(PROFILES, "u1") == b"p1"
    secondary.close()
    primary.close()
