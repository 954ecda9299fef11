# Sourced by the benchmarks' run.sh scripts.
# pair_median BASE TOOL FIELD: the median over the runs of a loop of TOOL's FIELD (1-based) over
# BASE's in the same turn of the loop (line i of each file: the tools take turns, run after run).
# On this kind of shared VM one program's native time can double from one run to the next; a
# ratio of two medians then moves by a tenth, the median of ratios of neighbouring runs less.
# Lines TOOL lacks (a slow tool run fewer times) are left out.
pair_median() {
  paste -d ' ' "$1" "$2" |
    awk -v f="$3" '{ n = NF / 2 } n >= f && NF == 2 * n && $f > 0 { print $(n + f) / $f }' |
    sort -g | awk '{ r[NR] = $1 } END { if (NR) printf "%.2f", r[int((NR + 1) / 2)]; else printf "-" }'
}
