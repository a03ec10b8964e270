#!/usr/bin/env python3
"""`omnifeed validate` on catalog shapes real exports have, each next to the same rows in the
generator's own shape, measured in the same run (issue #9, points 7 and 8):

- one variant group: every product row gets the same group_id (ERP exports with a default
  group id) and stays a distinct variant, against the generator's normal groups;
- inventory sorted by location ("stock per store" exports), against sorted by SKU;
- wide tables: 2,000 keys per JSON line against the same as CSV, and a 100,000-column
  header (point 11: lookups per column).

Usage: benches/loader_shapes.py [--variants 200000] [--stores 20] [--runs 3] [--bin PATH]...
Each --bin is measured in turn (default: this checkout's release build, built here), so an
older binary can be compared with the current one in one run. Catalogs are generated with
shared/tools/gen_catalog.py and cached under target/bench-data/.
"""
import argparse, csv, json, os, subprocess, sys, time

# The catalogs are bench.py's own (same generator, same cache under target/bench-data/).
from bench import BIN, ROOT, catalog as generated


def timed(cmd):
    """Runs cmd, returns (wall seconds, peak RSS MiB of that child alone, exit code)."""
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def best_of(runs, cmd):
    return min((timed(cmd) for _ in range(runs)), key=lambda r: r[0])


def reshaped(base, name, products=None, inventory=None):
    """A copy of the catalog `base` with products and/or inventory rows rewritten. Done in a
    child process: a child's peak RSS counts from its fork, so this process must stay small."""
    out = f"{base}-{name}"
    if os.path.exists(os.path.join(out, "done")):
        return out
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"reshaping {out} failed")
        return out
    os.makedirs(out, exist_ok=True)
    for table, change in (("products.csv", products), ("inventory.csv", inventory), ("locations.csv", None)):
        with open(os.path.join(base, table), newline="", encoding="utf-8") as src:
            reader = csv.reader(src)
            header = next(reader)
            rows = change(header, reader) if change else reader
            with open(os.path.join(out, table), "w", newline="", encoding="utf-8") as dst:
                writer = csv.writer(dst, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
    open(os.path.join(out, "done"), "w").close()
    os._exit(0)


def one_group(header, rows):
    # The variants stay distinct (the colour carries the SKU), so every row is checked
    # against the whole group without a match: the worst case of a check per sibling.
    group, color, sku = header.index("group_id"), header.index("color"), header.index("sku")
    for row in rows:
        row[group] = "ALL"
        row[color] = f"{row[color]} {row[sku]}"
        yield row


def by_location(header, rows):
    at = header.index("location_id")
    # Stable: within a location the rows keep their SKU order, as a store export lists them.
    return sorted(rows, key=lambda row: row[at])


def wide(base, columns, rows, fmt):
    """A catalog of `rows` products with `columns` columns in all (the extra ones unmapped),
    as CSV or JSON Lines: header and key lookups cost per column."""
    out = f"{base}-wide-{columns}x{rows}-{fmt}"
    if os.path.exists(os.path.join(out, "done")):
        return out
    os.makedirs(out, exist_ok=True)
    names = ["sku", "title", "price", "currency", "link", "image_link"]
    names += [f"extra_{i}" for i in range(columns - len(names))]
    with open(os.path.join(out, f"products.{fmt}"), "w", newline="", encoding="utf-8") as dst:
        if fmt == "csv":
            writer = csv.writer(dst, lineterminator="\n")
            writer.writerow(names)
        for row in range(rows):
            values = [f"W{row}", f"Shirt {row}", "10.00", "EUR", f"https://s.example.com/{row}",
                      f"https://c.example.com/{row}.jpg"]
            values += [str(i) for i in range(columns - len(values))]
            if fmt == "csv":
                writer.writerow(values)
            else:
                dst.write(json.dumps(dict(zip(names, values))) + "\n")
    with open(os.path.join(out, "omnifeed.toml"), "w") as config:
        config.write(f'[catalog]\ndir = "."\n[catalog.products]\nfile = "products.{fmt}"\n')
    open(os.path.join(out, "done"), "w").close()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", type=int, default=200_000)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bin", action="append", help="omnifeed binary to measure (repeatable)")
    a = ap.parse_args()
    if not a.bin:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=ROOT, check=True)
    binaries = a.bin or [BIN]
    base = generated(a.variants, a.stores)
    shapes = [
        ("normal groups, inventory by SKU", base),
        ("one group_id for every row", reshaped(base, "one-group", products=one_group)),
        ("inventory sorted by location", reshaped(base, "by-location", inventory=by_location)),
    ]
    wide_shapes = [
        ("1,000 rows x 2,000 columns, CSV", wide(base, 2000, 1000, "csv")),
        ("1,000 rows x 2,000 keys, JSON Lines", wide(base, 2000, 1000, "jsonl")),
        ("3 rows x 100,000 columns, CSV", wide(base, 100_000, 3, "csv")),
    ]
    print(f"{a.variants} variants, {a.stores} stores; omnifeed validate, best of {a.runs} runs")
    for binary in binaries:
        print(binary)
        for group in (shapes, wide_shapes):
            first = None
            for name, catalog in group:
                where = ["--catalog", catalog] if group is shapes else ["--config", os.path.join(catalog, "omnifeed.toml")]
                wall, rss, code = best_of(a.runs, [binary, *where, "validate", "--no-progress",
                                                   "--format", "json"])
                first = first or (wall, rss)
                print(f"  {name:<36} {wall:7.2f} s ({wall / first[0]:5.2f}x)  peak RSS {rss:6.0f} MiB "
                      f"({rss / first[1]:4.2f}x)  exit {code}")


if __name__ == "__main__":
    main()
