"""The leak checker benchmark's Python workload (about 2 s natively): text scanned with a regular
expression and counted, a list of records through json and back, and the records loaded into an
in-memory sqlite3 database and grouped. Usage: python3 work.py [N]"""
import collections
import json
import re
import sqlite3
import sys


def main(n):
    words = re.compile(r"[a-z]+\d*")
    text = " ".join("word%d alpha beta gamma" % (i % 1000) for i in range(n))
    counts = collections.Counter(words.findall(text))
    doc = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7)] * 3} for i in range(n // 2)]
    data = json.dumps(doc)
    back = json.loads(data)
    db = sqlite3.connect(":memory:")
    db.execute("create table t(id integer primary key, name text, tag text)")
    db.executemany("insert into t(name, tag) values (?, ?)",
                   ((d["name"], d["tags"][0]) for d in back))
    rows = db.execute("select tag, count(*) from t group by tag order by tag").fetchall()
    print(len(counts), len(data), rows[0])


main(int(sys.argv[1]) if len(sys.argv) > 1 else 300000)
