"""Every data set loader on a tiny fixture in its own format."""

from __future__ import annotations

import pytest

from reco.datasets import DatasetError, load_dataset


def write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


def kinds(events):
    return [(e.user_id, e.event_type, e.item_id, e.category) for e in events]


def test_taobao(tmp_path):
    path = write(tmp_path, "UserBehavior.csv", "1,10,5,buy,1511544070\n1,11,5,pv,1511544000\n")
    assert kinds(load_dataset("taobao", path)) == [
        ("tb1", "product_view", "11", "5"), ("tb1", "purchase", "10", "5")]


def test_retailrocket_with_categories_from_item_properties(tmp_path):
    path = write(tmp_path, "events.csv", "timestamp,visitorid,event,itemid,transactionid\n"
                 "1433221332117,257597,view,355908,\n1433224214164,992329,transaction,248676,9\n")
    write(tmp_path, "item_properties_part1.csv", "timestamp,itemid,property,value\n"
          "1,355908,categoryid,1173\n2,355908,categoryid,1174\n3,248676,790,n5\n")
    events = load_dataset("retailrocket", path)
    assert kinds(events) == [("rr257597", "product_view", "355908", "1174"),
                             ("rr992329", "purchase", "248676", None)]
    assert events[0].ts == 1433221332117


def test_yoochoose_original_with_buys_and_the_session_rec_sample(tmp_path):
    clicks = write(tmp_path, "yoochoose-clicks.dat",
                   "1,2014-04-07T10:51:09.277Z,214536502,0\n1,2014-04-07T10:54:09.868Z,2145365"
                   "00,S\n")
    write(tmp_path, "yoochoose-buys.dat", "1,2014-04-07T11:00:00.000Z,214536500,1046,2\n")
    events = load_dataset("yoochoose", clicks)
    assert kinds(events) == [("ys1", "product_view", "214536502", None),
                             ("ys1", "product_view", "214536500", "S"),
                             ("ys1", "purchase", "214536500", None)]
    assert events[2].price == 1046.0 and events[2].quantity == 2
    sample = write(tmp_path, "sample.txt", "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n")
    assert kinds(load_dataset("yoochoose", sample)) == [("ys3", "product_view", "214716935",
                                                         None)]


def test_diginetica_views_purchases_and_categories(tmp_path):
    views = write(tmp_path, "train-item-views.csv", "sessionId;userId;itemId;timeframe;eventdate"
                  "\n1;NA;81766;526309;2016-05-09\n2;7;31331;1031018;2016-05-09\n")
    write(tmp_path, "train-purchases.csv", "sessionId;userId;timeframe;eventdate;ordernumber;"
          "itemId\n2;7;1100000;2016-05-09;1;31331\n")
    write(tmp_path, "product-categories.csv", "itemId;categoryId\n31331;1288\n")
    assert kinds(load_dataset("diginetica", views)) == [
        ("ds1", "product_view", "81766", None), ("dg7", "product_view", "31331", "1288"),
        ("dg7", "purchase", "31331", "1288")]


def test_movielens_ratings_above_the_threshold_are_positive(tmp_path):
    ratings = write(tmp_path, "ratings.csv", "userId,movieId,rating,timestamp\n"
                    "1,31,2.5,1260759144\n1,1029,4.0,1260759179\n")
    write(tmp_path, "movies.csv", 'movieId,title,genres\n31,"Dangerous Minds (1995)",Drama\n'
          "1029,Dumbo (1941),Animation|Children\n")
    assert kinds(load_dataset("movielens", ratings)) == [
        ("ml1", "product_view", "31", "Drama"), ("ml1", "purchase", "1029", "Animation")]


def test_generic_csv_and_its_errors(tmp_path):
    good = write(tmp_path, "shop.csv", "timestamp,user_id,item_id,event_type,category,price\n"
                 "1795680000000,u1,i1,purchase,shoes,20\n2026-11-26T08:00:01,u1,i2,click,,\n")
    events = load_dataset("csv", good)
    assert kinds(events) == [("u1", "purchase", "i1", "shoes"), ("u1", "click", "i2", None)]
    assert events[0].price == 20.0
    bad = write(tmp_path, "bad.csv",
                "timestamp,user_id,item_id,event_type\n1795680000000,u,i,zap\n")
    with pytest.raises(DatasetError, match=r"bad\.csv:2: unknown event_type 'zap'"):
        load_dataset("csv", bad)
    with pytest.raises(DatasetError, match="missing event_type"):
        load_dataset("csv", write(tmp_path, "h.csv", "timestamp,user_id,item_id\n"))
    with pytest.raises(DatasetError, match="unknown data set kind"):
        load_dataset("nope", good)
