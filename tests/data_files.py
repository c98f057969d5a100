"""Small raw files in each format's real layout, written by the tests (never the real datasets)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

# A 4-user, 5-item rating log: (user, item, rating, unix time). User 4 has a single rating.
RATINGS = [
    (1, 10, 4.0, 1000), (1, 20, 3.5, 1100), (1, 30, 5.0, 1200), (1, 40, 2.0, 1300),
    (2, 10, 5.0, 2000), (2, 30, 4.0, 2100), (2, 50, 1.0, 2200),
    (3, 20, 4.5, 3000), (3, 40, 4.0, 3100), (3, 50, 3.0, 3200), (3, 10, 2.5, 3300),
    (4, 30, 5.0, 4000),
]  # fmt: skip
N_RATINGS, N_USERS, N_ITEMS = 12, 4, 5


def write_movielens_latest(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"{u},{i},{r},{t}" for u, i, r, t in RATINGS)
    (folder / "ratings.csv").write_text(f"userId,movieId,rating,timestamp\n{rows}\n")
    (folder / "movies.csv").write_text(
        "movieId,title,genres\n"
        '10,"American President, The (1995)",Comedy|Drama|Romance\n'
        "20,Heat (1995),Action|Crime|Thriller\n"
        '30,"Good, the Bad and the Ugly, The (1966)",Action|Western\n'
        "40,Toy Story (1995),Adventure|Animation\n"
        "50,Unknown Film (2001),(no genres listed)\n"
    )
    (folder / "tags.csv").write_text(
        "userId,movieId,tag,timestamp\n1,10,politics,1001\n2,10,Romance,2001\n3,20,heist,3001\n"
    )
    return folder


def write_movielens_1m(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ratings.dat").write_text("".join(f"{u}::{i}::{int(r)}::{t}\n" for u, i, r, t in RATINGS))
    movies = (
        "10::Misérables, Les (1995)::Drama|Musical\n"
        "20::Star Wars: Episode IV - A New Hope (1977)::Action|Sci-Fi\n"
        "30::Cité des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
        "40::Toy Story (1995)::Animation|Comedy\n"
        "50::Heat (1995)::Action\n"
    )
    (folder / "movies.dat").write_bytes(movies.encode("latin-1"))  # the 1M files are Latin-1
    (folder / "users.dat").write_text("".join(f"{u}::F::25::{u}::0000{u}\n" for u in range(1, 5)))
    return folder


def write_movielens_100k(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{int(r)}\t{t}\n" for u, i, r, t in RATINGS))
    titles = {
        10: "Café au lait (1993)",
        20: "Heat (1995)",
        30: "Señorita (1999)",
        40: "Toy Story (1995)",
        50: "Alien (1979)",
    }
    flags = {10: (5,), 20: (1, 6), 30: (14,), 40: (3, 4, 5), 50: (11, 15)}  # indices into the 19 genres
    lines = []
    for item, title in titles.items():
        genre_flags = "|".join("1" if g in flags[item] else "0" for g in range(19))
        lines.append(f"{item}|{title}|01-Jan-1995||http://us.imdb.com/x|{genre_flags}\n")
    (folder / "u.item").write_bytes("".join(lines).encode("latin-1"))
    (folder / "u.user").write_text("".join(f"{u}|{20 + u}|M|engineer|1000{u}\n" for u in range(1, 5)))
    return folder


# An e-commerce log: (user, item, event, unix time, category); "bogus" is an unknown event.
EVENTS = [
    (1, 100, "view", 1000, 7), (1, 100, "cart", 1010, 7), (1, 100, "purchase", 1020, 7), (1, 200, "view", 1100, 8),
    (2, 200, "view", 2000, 8), (2, 300, "view", 2050, 9), (2, 300, "cart", 2060, 9),
    (3, 100, "view", 3000, 7), (3, 300, "view", 3100, 9), (3, 200, "bogus", 3200, 8),
]  # fmt: skip


def write_retailrocket(folder: Path) -> Path:
    names = {"view": "view", "cart": "addtocart", "purchase": "transaction", "bogus": "bogus"}
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        f"{t * 1000},{u},{names[e]},{i},{'77' if e == 'purchase' else ''}" for u, i, e, t, _ in EVENTS
    ]  # milliseconds
    (folder / "events.csv").write_text(
        "timestamp,visitorid,event,itemid,transactionid\n" + "\n".join(rows) + "\n"
    )
    properties = [
        "timestamp,itemid,property,value",
        "5,100,categoryid,1",
        "9,100,categoryid,7",
        "5,200,888,n1.5",
    ]
    (folder / "item_properties_part1.csv").write_text("\n".join(properties) + "\n")
    return folder


def write_taobao(folder: Path) -> Path:
    names = {"view": "pv", "cart": "cart", "purchase": "buy", "bogus": "fav"}
    folder.mkdir(parents=True, exist_ok=True)
    rows = [f"{u},{i},{c},{names[e]},{t}" for u, i, e, t, c in EVENTS]
    (folder / "UserBehavior.csv").write_text("\n".join(rows) + "\n")
    return folder


def write_rees46(folder: Path) -> Path:
    from datetime import datetime, timezone

    names = {"view": "view", "cart": "cart", "purchase": "purchase", "bogus": "remove_from_cart"}
    header = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for u, i, e, t, c in EVENTS:
        when = datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        code = "electronics.smartphone" if i == 100 else ""
        brand = "acme" if i != 300 else ""
        rows.append(f"{when},{names[e]},{i},{c},{code},{brand},{i / 10:.2f},{u},s{u}")
    half = len(rows) // 2
    (folder / "2019-Oct.csv").write_text("\n".join([header, *rows[:half]]) + "\n")
    (folder / "2019-Nov.csv").write_text("\n".join([header, *rows[half:]]) + "\n")
    return folder


def write_amazon(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    reviews = [
        {"reviewerID": f"U{u}", "asin": f"B00{i}", "overall": r, "unixReviewTime": t,
         "reviewText": f"Review of {i} by {u}", "summary": "Great" if r >= 4 else "Meh"}
        for u, i, r, t in RATINGS
    ]  # fmt: skip
    with gzip.open(folder / "reviews_Books_5.json.gz", "wt") as out:
        out.writelines(json.dumps(review) + "\n" for review in reviews)
    meta = [
        {"asin": "B0010", "title": "A Tale of Two Cities", "description": ["A novel.", "Classic."], "category": ["Books", "Classics"]},
        {"asin": "B0020", "title": "Dune", "description": "Desert planet.", "categories": [["Books", "Science Fiction"]]},
    ]  # fmt: skip
    (folder / "meta_Books.json").write_text("".join(json.dumps(row) + "\n" for row in meta))
    return folder


def write_custom_csv(folder: Path, rows: list[tuple], header: str = "uid,iid,ts,action,stars") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [header, *(",".join("" if v is None else str(v) for v in row) for row in rows)]
    (folder / "log.csv").write_text("\n".join(lines) + "\n")
    (folder / "items.csv").write_text(
        "iid,name,kind\n" + "".join(f"{i},Thing {i},kind{i % 2}\n" for i in range(1, 60))
    )
    return folder
