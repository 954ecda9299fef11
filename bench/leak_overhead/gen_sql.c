/* Writes the SQL of the sqlite3 benchmark on stdout: a table of ROWS rows (default 200,000)
 * built in one transaction, two indexes, then grouped, joined, sorted queries, an update and a
 * delete. A fixed seed makes it the same every time. Usage: gen_sql [ROWS] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t s = 88172645463325252ull;

static uint64_t rnd(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 200000, i;

    printf(
        "PRAGMA journal_mode=OFF;\n"
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, score REAL, note TEXT);\n"
        "BEGIN;\n");
    for (i = 0; i < rows; i++) {
        int len = 5 + (int)(rnd() % 56), k;
        printf("INSERT INTO t(name,grp,score,note) VALUES('name%ld',%d,%.3f,'", i,
               (int)(rnd() % 1000), (double)(rnd() % 1000000) / 1000.0);
        for (k = 0; k < len; k++)
            putchar('a' + (int)(rnd() % 26));
        printf("');\n");
    }
    printf("COMMIT;\n"
           "CREATE INDEX t_grp ON t(grp);\n"
           "CREATE INDEX t_name ON t(name);\n"
           "SELECT grp, count(*), avg(score), max(length(note)) FROM t GROUP BY grp ORDER BY 3 "
           "DESC LIMIT 5;\n"
           "SELECT count(*) FROM t a JOIN t b ON a.grp = b.grp AND a.id < b.id WHERE a.id < 3000;\n"
           "SELECT name FROM t WHERE name LIKE 'name1999%%' ORDER BY score LIMIT 3;\n"
           "UPDATE t SET score = score * 2 WHERE grp %% 7 = 0;\n"
           "DELETE FROM t WHERE grp %% 11 = 0;\n"
           "SELECT count(*), sum(score) FROM t;\n");
    return 0;
}
