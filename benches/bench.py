#!/usr/bin/env python3
"""End-to-end benchmarks on catalogs from gen_catalog.py, printing wall time, throughput and
peak RSS, each next to the same-run baselines (a plain csv-crate parse of the same files and,
for feeds, the plain Python script a merchant would write).

Usage: benches/bench.py [validate|export|diff|push|direct|dirty|shopify|woocommerce|magento2|s3|sftp|shipping|check|allocation|markets|all] [--variants N] [--stores N] [--runs N] [--compare BIN]
`shipping` (not part of `all`): the Google RSS export without and with [shipping]/[tax]
rules, alternating.
`allocation` (not part of `all`): four feeds (Google RSS, Meta CSV, TikTok CSV, Google local
inventory) exported as today (shared stock, pickup as feed constants) and with stock
allocation (an [allocation] partition of the warehouse across the three product feeds,
[stock] share/cap/thresholds, pickup method and SLA per store from the locations table),
alternating, with wall time and peak RSS of each and the ratio.
`markets` (not part of `all`): the Google RSS feed as today (each row's own currency), as one
market (DE) and as three (DE, AT, CH), alternating; every row priced in another currency is
converted with a rates file, so each market carries every item.
`push` times, next to each other: the export of the Google feed, its first push into an
empty state, a push with nothing changed, and the state file's bytes per item.
`direct` exports the Google feed with O_DIRECT and with OMNIFEED_DIRECT_IO=off (the page
cache path), alternating, and prints both with their CPU time; not part of `all`.
`shopify`, `woocommerce`, `magento2` (not part of `all`): the catalog's products as that shop's
product CSV export (Shopify: product columns on a handle's first row only; WooCommerce: each
variable product before its variations; Magento: simple children before their configurable
parent), validated with the preset, next to a csv-crate parse of that export. `--compare BIN`
runs the same with another omnifeed binary (say a build of an earlier commit) and exports the
Google feed with both, printing whether the two feeds are byte-identical.
`dirty` (not part of `all`): peak RSS of export with a finding on every item, from a copy of
the catalog with `brand` blanked on every row (Google recommends it).
`s3` (not part of `all`): the Google feed pushed into a fresh state to a local S3 server
(examples/s3_server.rs: s3s-fs, SigV4 checked) and, as the baseline, to a local folder; the
difference is the upload. Printed next to `cp` of the same file, the floor.
`sftp` (not part of `all`): the Google feed pushed to a local OpenSSH sshd (started here on
127.0.0.1 with throw-away keys), next to OpenSSH's own `sftp -b` upload of the same file and
`cp` as the floor, with MB/s and peak RSS; the upload's share of the push is the push to sshd
less the same push into a folder.
`check` (not part of `all`): `omnifeed check` of the bundled project's 8 feeds (omnifeed.toml,
feeds/) over the catalog, in text (20 SKUs shown) and JSON (every SKU that differs, spilled to
a temporary file), next to `validate` of the same catalog: the cost of running every item
through 8 feeds and comparing them.
Catalogs are cached under target/bench-data/. Needs a release build (built here).
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "tools", "gen_catalog.py")
PEER = os.path.join(ROOT, "..", "shared", "bench", "py_google_feed.py")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "release", "omnifeed")
CSV_PARSE = os.path.join(TARGET, "release", "examples", "csv_parse")
BENCH_TOML = os.path.join(ROOT, "benches", "bench.toml")


def timed(cmd, cpu=None, **kwargs):
    """Runs cmd, returns (wall seconds, peak RSS MiB of that child alone); appends its user
    and system CPU seconds to `cpu` when given."""
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, **kwargs).pid
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if cpu is not None:
        cpu.append((usage.ru_utime, usage.ru_stime))
    return wall, usage.ru_maxrss / 1024, code


def best_of(runs, cmd, **kwargs):
    results = [timed(cmd, **kwargs) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def catalog(variants, stores):
    path = os.path.join(ROOT, "target", "bench-data", f"v{variants}-s{stores}")
    if not os.path.exists(os.path.join(path, "defects.json")):
        print(f"generating {variants} variants, {stores} stores into {path} ...", file=sys.stderr)
        subprocess.run([sys.executable, GEN, path, "--variants", str(variants), "--stores", str(stores)],
                       check=True, stdout=subprocess.DEVNULL)
    trade_item_gtins(path)
    return path


def gs1_check(body):
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def trade_item_gtins(path):
    """The generator draws GTIN digits at random, so about one in seven lands in a GS1 range no
    trade item has (restricted 2, 02, 04; coupons 05, 98, 99), which Google refuses. Real
    catalogs hold manufacturers' GTINs: such a value gets a trade-item prefix (2 -> 4,
    02/04/05 -> 03, 98/99 -> 97), a planted wrong check digit staying wrong by the same
    amount. The same remap as tests/cli/support.rs; done once per generated catalog."""
    import csv
    marker = os.path.join(path, "trade-item-gtins")
    if os.path.exists(marker):
        return
    products = os.path.join(path, "products.csv")
    fixed = products + ".tmp"
    with open(products, newline="", encoding="utf-8") as src, \
            open(fixed, "w", newline="", encoding="utf-8") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        header = next(reader)
        writer.writerow(header)
        column = header.index("gtin")
        for row in reader:
            gtin = row[column] if column < len(row) else ""
            if len(gtin) == 13 and gtin.isdigit():
                body = gtin[:12]
                new = ("4" + body[1:] if body[0] == "2" else
                       "03" + body[2:] if body[:2] in ("02", "04", "05") else
                       "97" + body[2:] if body[:2] in ("98", "99") else None)
                if new:
                    off = (int(gtin[12]) - gs1_check(body)) % 10
                    row[column] = new + str((gs1_check(new) + off) % 10)
            writer.writerow(row)
    os.replace(fixed, products)
    open(marker, "w").close()


def line(name, wall, rss, variants, base=None):
    ratio = f"  {wall / base:5.2f}x csv parse" if base else ""
    print(f"{name:<34} {wall:7.2f} s  {variants / wall / 1e6:6.2f} M variants/s  peak RSS {rss:6.0f} MiB{ratio}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", nargs="?", default="all", choices=["validate", "export", "diff", "push", "direct", "dirty", "shopify", "woocommerce", "magento2", "s3", "sftp", "shipping", "check", "allocation", "markets", "all"])
    ap.add_argument("--compare", metavar="BIN", help="shop modes: also run this omnifeed binary (an earlier build) and compare the Google feeds byte for byte")
    ap.add_argument("--variants", type=int, default=1_000_000)
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--examples", "--bins"], cwd=ROOT, check=True)
    cat = catalog(a.variants, a.stores)
    files = [os.path.join(cat, "products.csv"), os.path.join(cat, "inventory.csv")]
    sizes = sum(os.path.getsize(f) for f in files) / 1e6
    print(f"catalog: {a.variants} variants, {a.stores} stores, {sizes:.0f} MB CSV; best of {a.runs} runs; {os.cpu_count()} cores")
    base, rss, _ = best_of(a.runs, [CSV_PARSE, *files])
    line("csv crate parse (baseline)", base, rss, a.variants)
    if a.what in ("validate", "all"):
        wall, rss, code = best_of(a.runs, [BIN, "validate", "--catalog", cat, "--no-progress"])
        line("omnifeed validate", wall, rss, a.variants, base)
        if code != 0:
            print(f"  (exit {code})")
    if a.what in ("export", "all"):
        with tempfile.TemporaryDirectory() as out:
            wall, rss, code = best_of(a.runs, [BIN, "--config", os.path.join(ROOT, "benches", "bench.toml"),
                                               "export", "--catalog", cat, "--out", out, "--no-progress",
                                               "google-shopping", "meta-catalog", "google-local-inventory"])
            line("omnifeed export (3 feeds)", wall, rss, a.variants, base)
            if code != 0:
                print(f"  (exit {code})")
            peer, prss, _ = best_of(1, [sys.executable, PEER, cat, os.path.join(out, "peer.xml")])
            line("py_google_feed.py (Google only)", peer, prss, a.variants, base)
            print(f"{'omnifeed export vs Python peer':<34} {peer / wall:7.1f}x faster (3 feeds vs 1)")
    if a.what in ("diff", "all"):
        bench_diff(a, cat)
    if a.what in ("push", "all"):
        bench_push(a, cat)
    if a.what == "direct":
        bench_direct(a, cat)
    if a.what == "dirty":
        bench_dirty(a, cat)
    if a.what == "shipping":
        bench_shipping(a, cat)
    if a.what == "allocation":
        bench_allocation(a, cat)
    if a.what == "markets":
        bench_markets(a, cat)
    if a.what == "s3":
        bench_s3(a, cat)
    if a.what in SHOPS:
        bench_shop(a, cat, a.what)
    if a.what == "sftp":
        bench_sftp(a, cat)
    if a.what == "check":
        bench_check(a, cat, base)


def bench_check(a, cat, base):
    """check over the bundled project's 8 feeds, text and JSON, next to validate."""
    cfg = ["--config", os.path.join(ROOT, "omnifeed.toml")]
    wall, rss, code = best_of(a.runs, [BIN, *cfg, "validate", "--catalog", cat, "--no-progress"])
    line("omnifeed validate", wall, rss, a.variants, base)
    for fmt in ("human", "json"):
        wall, rss, code = best_of(a.runs, [BIN, *cfg, "check", "--catalog", cat, "--no-progress",
                                           "--format", fmt])
        line(f"omnifeed check (8 feeds, {fmt})", wall, rss, a.variants, base)
        print(f"  (exit {code}: {'differences found' if code == 1 else 'clean' if code == 0 else 'failed'})")
    with tempfile.TemporaryFile() as out:
        subprocess.run([BIN, *cfg, "check", "--catalog", cat, "--no-progress", "--format", "json"],
                       stdout=out, check=False)
        size = os.fstat(out.fileno()).st_size
        out.seek(0)
        # The counts come before the SKU list: read only the head of a report of many MB.
        head = out.read(1 << 16).decode()
        head = head[:head.index('"skus": [')] + '"skus": []}'
        report = json.loads(head)
        print(f"  checked {report['checked']} SKUs, {report['skus_with_mismatches']} differ: "
              + ", ".join(f"{k} {v}" for k, v in report["mismatches"].items())
              + f"; JSON report {size / 1e6:.0f} MB")


def shop_rows(cat):
    """The catalog's rows grouped by product (group_id, else the SKU), in file order."""
    import csv
    with open(os.path.join(cat, "products.csv"), newline="") as src:
        group, rows = None, []
        for row in csv.DictReader(src):
            key = row["group_id"] or row["sku"]
            if key != group and rows:
                yield group, rows
                rows = []
            group = key
            rows.append(row)
        if rows:
            yield group, rows


def regular_and_sale(row):
    return (row["price"], row["sale_price"]) if row["sale_price"] else (row["price"], "")


def write_shopify(cat, export):
    import csv, zlib
    header = ["Handle", "Title", "Body (HTML)", "Vendor", "Type", "Tags", "Published",
              "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Variant SKU",
              "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
              "Variant Price", "Variant Compare At Price", "Variant Barcode", "Image Src",
              "Image Position", "Variant Image", "Status"]
    with open(export + ".tmp", "w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(header)
        for group, rows in shop_rows(cat):
            handle = group.lower()
            for i, row in enumerate(rows):
                first = i == 0
                sale = row["sale_price"]
                price, compare = (sale, row["price"]) if sale else (row["price"], "")
                if first:
                    product = [row["title"], row["description"], row["brand"], row["product_type"],
                               "bench", "true", "Color", row["color"], "Size", row["size"]]
                else:
                    product = ["", "", "", "", "", "", "", row["color"], "", row["size"]]
                writer.writerow([handle, *product, row["sku"], "500", "shopify",
                                 zlib.crc32(row["sku"].encode()) % 50, price, compare, row["gtin"],
                                 row["image_link"] if first else "", "1" if first else "",
                                 row["image_link"], "active" if first else ""])
    os.replace(export + ".tmp", export)


def write_woocommerce(cat, export):
    """Variable products with their variations after them, as WooCommerce's exporter
    writes them (by ID); products of one variant are simple."""
    import csv, zlib
    header = ["ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published",
              "Short description", "Description", "In stock?", "Stock", "Sale price",
              "Regular price", "Categories", "Images", "Parent", "Brands",
              "Attribute 1 name", "Attribute 1 value(s)", "Attribute 2 name", "Attribute 2 value(s)"]
    next_id = 10
    with open(export + ".tmp", "w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(header)
        for group, rows in shop_rows(cat):
            first = rows[0]
            images = ", ".join([first["image_link"], *first["additional_image_links"].split("|")])
            if len(rows) == 1:
                regular, sale = regular_and_sale(first)
                writer.writerow([next_id, "simple", first["sku"], first["gtin"], first["title"], "1",
                                 "", first["description"], "1", zlib.crc32(first["sku"].encode()) % 50,
                                 sale, regular, first["product_type"], images, "", first["brand"],
                                 "Color", first["color"], "Size", first["size"]])
                next_id += 1
                continue
            parent = next_id
            colors = ", ".join(dict.fromkeys(r["color"] for r in rows))
            sizes = ", ".join(dict.fromkeys(r["size"] for r in rows))
            writer.writerow([parent, "variable", group, "", first["title"], "1", "",
                             first["description"], "1", "", "", "", first["product_type"], images,
                             "", first["brand"], "Color", colors, "Size", sizes])
            next_id += 1
            for row in rows:
                regular, sale = regular_and_sale(row)
                writer.writerow([next_id, "variation", row["sku"], row["gtin"], row["title"], "1", "",
                                 "", "1", zlib.crc32(row["sku"].encode()) % 50, sale, regular, "",
                                 row["image_link"], f"id:{parent}", "", "Color", row["color"],
                                 "Size", row["size"]])
                next_id += 1
    os.replace(export + ".tmp", export)


def write_magento(cat, export):
    """Simple children before their configurable parent, as Magento's import samples and
    many exports have them; products of one variant are visible simples."""
    import csv, zlib
    header = ["sku", "store_view_code", "attribute_set_code", "product_type", "categories",
              "name", "description", "product_online", "visibility", "price", "special_price",
              "url_key", "base_image", "additional_images", "additional_attributes", "qty",
              "is_in_stock", "configurable_variations"]
    def category(row):
        return "Default Category/" + row["product_type"].replace(" > ", "/")
    with open(export + ".tmp", "w", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(header)
        for group, rows in shop_rows(cat):
            first = rows[0]
            alone = len(rows) == 1
            for row in rows:
                regular, sale = regular_and_sale(row)
                attributes = f"color={row['color']},size={row['size']},ean={row['gtin']},manufacturer={row['brand']}"
                writer.writerow([row["sku"], "", "Default", "simple", category(row), row["title"],
                                 row["description"] if alone else "", "1",
                                 "Catalog, Search" if alone else "Not Visible Individually",
                                 regular, sale, row["sku"].lower(), row["image_link"],
                                 ",".join(row["additional_image_links"].split("|")) if alone else "",
                                 attributes, f"{zlib.crc32(row['sku'].encode()) % 50}.0000", "1", ""])
            if alone:
                continue
            variations = "|".join(f"sku={r['sku']},color={r['color']},size={r['size']}" for r in rows)
            writer.writerow([group, "", "Default", "configurable", category(first), first["title"],
                             first["description"], "1", "Catalog, Search", first["price"], "",
                             group.lower(), first["image_link"],
                             ",".join(first["additional_image_links"].split("|")), "", "", "1",
                             variations])
    os.replace(export + ".tmp", export)


SHOPS = {
    # preset: (folder suffix, export file, writer, extra config lines)
    "shopify": ("shopify", "products_export.csv", write_shopify, ""),
    "woocommerce": ("woocommerce", "wc-product-export.csv", write_woocommerce, ""),
    "magento2": ("magento2", "catalog_product.csv", write_magento, ""),
}


def shop_export(cat, preset):
    """The catalog rewritten as `preset`'s product export (cached next to the catalog)."""
    suffix, name, write, _ = SHOPS[preset]
    shop = cat + "-" + suffix
    export = os.path.join(shop, name)
    if not os.path.exists(export):
        os.makedirs(shop, exist_ok=True)
        print(f"writing the {preset} export into {shop} ...", file=sys.stderr)
        write(cat, export)
    config = os.path.join(shop, "omnifeed.toml")
    with open(config, "w") as out:
        out.write(f'[catalog]\ndir = "."\n[catalog.products]\nfile = "{name}"\n'
                  f'preset = "{preset}"\nbase_url = "https://shop.example.com"\n'
                  '[defaults]\ncurrency = "EUR"\n')
    feeds = os.path.join(shop, "feeds")
    os.makedirs(feeds, exist_ok=True)
    with open(os.path.join(feeds, "google.toml"), "w") as out:
        out.write('channel = "google-merchant"\nformat = "tsv"\ncountry = "DE"\nlanguage = "en"\n'
                  '[destination]\nkind = "dir"\npath = "out"\n')
    return shop, export, config


def md5_of(path):
    import hashlib
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bench_shop(a, cat, preset):
    """The products as `preset` exports them, read through the preset: `validate` time and
    peak RSS next to a csv-crate parse of the export; with --compare BIN, the same with
    that (earlier) build, and whether both export byte-identical Google feeds."""
    shop, export, config = shop_export(cat, preset)
    mb = os.path.getsize(export) / 1e6
    base, rss, _ = best_of(a.runs, [CSV_PARSE, export])
    print(f"{preset} export of the same variants: {mb:.0f} MB")
    line("csv crate parse of the export", base, rss, a.variants)
    builds = [("this build", BIN)] + ([("--compare build", a.compare)] if a.compare else [])
    feeds = []
    for name, binary in builds:
        wall, rss, code = best_of(a.runs, [binary, "--config", config, "validate", "--no-progress"])
        line(f"validate, {preset}, {name}", wall, rss, a.variants, base)
        if code not in (0, 1):
            print(f"  (exit {code})")
        if a.compare:
            with tempfile.TemporaryDirectory(dir=shop) as out:
                wall, rss, code = timed([binary, "--config", config, "export", "--no-progress",
                                         "--out", out])
                line(f"export Google TSV, {name}", wall, rss, a.variants, base)
                feeds.append(md5_of(os.path.join(out, "google.tsv")))
    if a.compare:
        print(f"{'Google feeds byte-identical':<34} {'yes' if feeds[0] == feeds[1] else 'NO'} ({feeds[0]})")


def bench_push(a, cat):
    """The Google feed exported, pushed into an empty state, pushed again unchanged."""
    import shutil, sqlite3
    state_dir = os.path.join(ROOT, "target", "bench-state")
    state = os.path.join(state_dir, "state.db")
    cfg = ["--config", BENCH_TOML, "--no-progress"]
    feed = "google-shopping"
    with tempfile.TemporaryDirectory() as out:
        export, erss, code = best_of(a.runs, [BIN, *cfg, "export", "--catalog", cat, "--out", out, feed])
    line("omnifeed export (google)", export, erss, a.variants)
    if code != 0:
        print(f"  (exit {code})")
    firsts = []
    for _ in range(a.runs):
        shutil.rmtree(state_dir, ignore_errors=True)
        firsts.append(timed([BIN, *cfg, "push", "--force", "--catalog", cat, feed]))
    first, frss, code = min(firsts, key=lambda r: r[0])
    line("omnifeed push (first, google)", first, frss, a.variants)
    if code != 0:
        print(f"  (exit {code})")
    again, arss, code = best_of(a.runs, [BIN, *cfg, "push", "--catalog", cat, feed])
    line("omnifeed push (unchanged, google)", again, arss, a.variants)
    if code != 0:
        print(f"  (exit {code})")
    size = sum(os.path.getsize(state + suffix) for suffix in ("", "-wal") if os.path.exists(state + suffix))
    with sqlite3.connect(state) as conn:
        (items,) = conn.execute("SELECT COUNT(*) FROM items").fetchone()
    print(f"state file: {size / 1e6:.0f} MB for {items} items, {size / max(items, 1):.0f} bytes per item")
    print(f"ratios to the export of the same feed: first push {first / export:.2f}x, "
          f"unchanged push {again / export:.2f}x")


# Four shipping rules (one by postal code, two free above a threshold) and two US tax rules:
# every item gets a group per rule in its currency, in RSS nested elements.
SHIPPING_RULES = """
[[shipping.rules]]
country = "DE"
service = "Standard"
price = "4.95 EUR"
free_above = "50.00 EUR"
min_handling_time = 0
max_handling_time = 1
min_transit_time = 1
max_transit_time = 3

[[shipping.rules]]
country = "DE"
postal_code = "18565"
service = "Standard"
price = "9.95 EUR"

[[shipping.rules]]
country = "DE"
service = "Standard"
price = "4.50 GBP"
free_above = "45.00 GBP"

[[shipping.rules]]
country = "DE"
service = "Standard"
price = "5.50 USD"

[[tax.rules]]
region = "CA"
rate = 8.75
tax_ship = true

[[tax.rules]]
postal_code = "10*"
rate = 4
"""


def bench_shipping(a, cat):
    """The Google RSS export without and with [shipping]/[tax] rules, alternating so both
    see the same machine: what rendering shipping and tax groups for every item costs."""
    import shutil
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as work:
        configs = {}
        for name, extra in (("without rules", ""), ("with 4 shipping + 2 tax rules", SHIPPING_RULES)):
            folder = os.path.join(work, name.split()[0])
            os.makedirs(os.path.join(folder, "feeds"))
            shutil.copy(BENCH_TOML, os.path.join(folder, "omnifeed.toml"))
            with open(os.path.join(ROOT, "benches", "feeds", "google-shopping.toml")) as f:
                feed = f.read()
            with open(os.path.join(folder, "feeds", "google-shopping.toml"), "w") as f:
                f.write(feed + extra)
            configs[name] = os.path.join(folder, "omnifeed.toml")
        results = {name: [] for name in configs}
        for _ in range(a.runs):
            for name, config in configs.items():
                out = os.path.join(work, "out")
                results[name].append(timed([BIN, "--config", config, "export", "--catalog", cat,
                                            "--out", out, "--no-progress", "google-shopping"]))
                size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
                shutil.rmtree(out)
                results[name][-1] += (size,)
        for name, runs in results.items():
            wall, rss, code, size = min(runs, key=lambda r: r[0])
            line(f"export google RSS, {name}", wall, rss, a.variants)
            print(f"{'':<34} {size / 1e9:7.2f} GB written{'' if code == 0 else f' (exit {code})'}")
ALLOCATION = """
[allocation]
mode = "partition"
[[allocation.feeds]]
feed = "meta-catalog"
percent = 30
[[allocation.feeds]]
feed = "google-shopping"
weight = 2
[[allocation.feeds]]
feed = "tiktok"
weight = 1
"""

ALLOCATION_STOCK = """
[stock]
share = 90
cap = 500
[stock.thresholds]
in_stock = 5
limited_availability = 1
"""


def bench_allocation(a, cat):
    """Today's export of four feeds next to the same feeds with stock allocation, alternating
    so both see the same machine."""
    import csv, re, shutil
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as work:
        # The catalog with pickup settings per store: the generated files, and a locations
        # table with pickup_method and pickup_sla columns.
        picked = os.path.join(work, "catalog")
        os.makedirs(picked)
        for name in ("products.csv", "inventory.csv"):
            os.symlink(os.path.join(os.path.abspath(cat), name), os.path.join(picked, name))
        with open(os.path.join(cat, "locations.csv"), newline="") as src, \
                open(os.path.join(picked, "locations.csv"), "w", newline="") as dst:
            rows = list(csv.reader(src))
            writer = csv.writer(dst)
            writer.writerow(rows[0] + ["pickup_method", "pickup_sla"])
            for number, row in enumerate(rows[1:]):
                store = row[1] == "store"
                writer.writerow(row + ([["buy", "same day"], ["reserve", "next day"]][number % 2]
                                       if store else ["", ""]))
        feeds = os.path.join(ROOT, "benches", "feeds")
        with open(os.path.join(feeds, "google-local-inventory.toml")) as f:
            local = f.read()
        # Without [fields] pickup constants: the stores' own settings.
        local_from_stores = re.sub(r"\[fields\][^\[]*", "", local)
        tiktok = 'channel = "tiktok"\nformat = "csv"\n\n[destination]\nkind = "dir"\npath = "out"\n'
        configs = {}
        for name, allocation, stock, local_text, catalog_dir in (
                ("today (shared stock)", "", "", local, cat),
                ("with allocation", ALLOCATION, ALLOCATION_STOCK, local_from_stores, picked)):
            folder = os.path.join(work, name.split()[0])
            os.makedirs(os.path.join(folder, "feeds"))
            with open(BENCH_TOML) as f:
                toml = f.read()
            with open(os.path.join(folder, "omnifeed.toml"), "w") as f:
                f.write(toml + allocation)
            for feed in ("google-shopping", "meta-catalog"):
                with open(os.path.join(feeds, feed + ".toml")) as f:
                    text = f.read()
                if stock:
                    text = re.sub(r"\[stock\][^\[]*", "", text)
                with open(os.path.join(folder, "feeds", feed + ".toml"), "w") as f:
                    f.write(text.replace("[destination]", stock + "\n[destination]", 1))
            with open(os.path.join(folder, "feeds", "tiktok.toml"), "w") as f:
                f.write(tiktok.replace("[destination]", stock + "\n[destination]", 1))
            with open(os.path.join(folder, "feeds", "google-local-inventory.toml"), "w") as f:
                f.write(local_text.replace("[destination]", (
                    "[stock.thresholds]\nin_stock = 3\nlimited_availability = 1\n\n" if stock else "")
                    + "[destination]", 1))
            configs[name] = (os.path.join(folder, "omnifeed.toml"), catalog_dir)
        results = {name: [] for name in configs}
        for _ in range(a.runs):
            for name, (config, catalog_dir) in configs.items():
                out = os.path.join(work, "out")
                results[name].append(timed([BIN, "--config", config, "export", "--catalog", catalog_dir,
                                            "--out", out, "--no-progress"]))
                shutil.rmtree(out, ignore_errors=True)
        best = {name: min(runs, key=lambda r: r[0]) for name, runs in results.items()}
        for name, (wall, rss, code) in best.items():
            line(f"export 4 feeds, {name}", wall, rss, a.variants)
            if code != 0:
                print(f"  (exit {code})")
        (today, trss, _), (alloc, arss, _) = best.values()
        print(f"{'allocation vs today':<34} {alloc / today:7.2f}x wall, {arss / trss:5.2f}x peak RSS")
MARKET_RATES = "from,to,rate\nGBP,EUR,1.1712\nUSD,EUR,0.9187\nEUR,CHF,0.9351\nGBP,CHF,1.0952\nUSD,CHF,0.8591\n"


def bench_markets(a, cat):
    """The Google RSS feed as it is, as one market and as three: what fanning a definition
    out per country costs (each market is a feed of its own in the same catalog pass)."""
    import re, shutil
    with open(os.path.join(ROOT, "benches", "feeds", "google-shopping.toml")) as f:
        base = f.read()
    # Markets carry their own country, language and file name.
    market_feed = re.sub(r'(?m)^(country|language|file) = .*\n', "", base)
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as work:
        configs = {}
        for name, markets in (("today (no markets)", None), ("1 market (DE)", '["DE"]'),
                              ("3 markets (DE, AT, CH)", '["DE", "AT", "CH"]')):
            folder = os.path.join(work, str(len(configs)))
            os.makedirs(os.path.join(folder, "feeds"))
            shutil.copy(BENCH_TOML, os.path.join(folder, "omnifeed.toml"))
            with open(os.path.join(folder, "rates.csv"), "w") as f:
                f.write(MARKET_RATES)
            text = base if markets is None else (
                f'markets = {markets}\nrates = "rates.csv"\nfile = "google-{{market}}"\n' + market_feed)
            with open(os.path.join(folder, "feeds", "google-shopping.toml"), "w") as f:
                f.write(text)
            configs[name] = os.path.join(folder, "omnifeed.toml")
        results = {name: [] for name in configs}
        for _ in range(a.runs):
            for name, config in configs.items():
                out = os.path.join(work, "out")
                results[name].append(timed([BIN, "--config", config, "export", "--catalog", cat,
                                            "--out", out, "--no-progress", "google-shopping"]))
                size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
                shutil.rmtree(out)
                results[name][-1] += (size,)
        today = min(results["today (no markets)"], key=lambda r: r[0])[0]
        for name, runs in results.items():
            wall, rss, code, size = min(runs, key=lambda r: r[0])
            line(f"export google RSS, {name}", wall, rss, a.variants)
            print(f"{'':<34} {size / 1e9:7.2f} GB written, {wall / today:4.2f}x today"
                  f"{'' if code == 0 else f' (exit {code})'}")


def bench_s3(a, cat):
    """The Google feed pushed to a local S3 server and to a folder, both into a fresh state;
    `cp` of the exported file as the floor. Peak RSS is omnifeed's alone (the server is
    another process)."""
    import shutil
    feed = "google-shopping"
    server_bin = os.path.join(TARGET, "release", "examples", "s3_server")
    with open(os.path.join(ROOT, "benches", "feeds", feed + ".toml")) as f:
        definition = f.read().split("[destination]")[0]
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as work:
        buckets = os.path.join(work, "buckets")
        os.makedirs(os.path.join(buckets, "feeds"))
        server = subprocess.Popen([server_bin, buckets], stdout=subprocess.PIPE, text=True)
        try:
            endpoint = server.stdout.readline().strip()
            key, secret = server.stdout.readline().split()
            env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
                   "AWS_REGION": "us-east-1"}
            destinations = {
                "dir": f'kind = "dir"\npath = "{os.path.join(work, "out")}"\n',
                "s3": f'kind = "object-store"\nurl = "s3://feeds/google/"\n'
                      f'endpoint = "{endpoint}"\nallow_http = true\n',
            }
            results = {}
            for name, destination in destinations.items():
                project = os.path.join(work, "project-" + name)
                os.makedirs(os.path.join(project, "feeds"))
                with open(os.path.join(project, "omnifeed.toml"), "w") as f:
                    f.write('feeds_dir = "feeds"\n\n[defaults]\ncountry = "DE"\nlanguage = "en"\n'
                            'time_zone = "Europe/Berlin"\n')
                with open(os.path.join(project, "feeds", feed + ".toml"), "w") as f:
                    f.write(definition + "[destination]\n" + destination)
                runs = []
                for _ in range(a.runs):
                    shutil.rmtree(os.path.join(project, ".omnifeed"), ignore_errors=True)
                    runs.append(timed([BIN, "--config", os.path.join(project, "omnifeed.toml"), "--no-progress",
                                       "push", "--force", "--catalog", cat, feed], env=env))
                results[name] = min(runs, key=lambda r: r[0])
                line(f"push google to {name} (fresh state)", *results[name][:2], a.variants)
                if results[name][2] != 0:
                    print(f"  (exit {results[name][2]})")
            uploaded = os.path.join(buckets, "feeds", "google", feed + ".xml")
            size = os.path.getsize(uploaded)
            with open(uploaded, "rb") as got, open(os.path.join(work, "out", feed + ".xml"), "rb") as want:
                same = all(g == w for g, w in zip(iter(lambda: got.read(1 << 24), b""),
                                                   iter(lambda: want.read(1 << 24), b"")))
            copies = []
            for _ in range(a.runs):
                copy = os.path.join(work, "copy.xml")
                copies.append(timed(["cp", uploaded, copy]))
                os.remove(copy)
            cp_wall, cp_rss, _ = min(copies, key=lambda r: r[0])
        finally:
            server.terminate()
            server.wait()
    upload = results["s3"][0] - results["dir"][0]
    mb = size / 1e6
    print(f"feed file: {mb:.0f} MB, object identical to the folder's file: {same}")
    print(f"{'cp of the feed file (floor)':<34} {cp_wall:7.2f} s  {mb / cp_wall:7.0f} MB/s  peak RSS {cp_rss:6.0f} MiB")
    if upload > 0:
        print(f"{'S3 upload (s3 push - dir push)':<34} {upload:7.2f} s  {mb / upload:7.0f} MB/s  "
              f"{upload / cp_wall:5.1f}x cp")
    print(f"peak RSS, s3 push over dir push: {results['s3'][1] - results['dir'][1]:+.0f} MiB")


def bench_direct(a, cat):
    """The Google RSS export with direct writes and through the page cache, alternating so
    both see the same machine; best wall time of each, with that run's CPU time."""
    results = {"O_DIRECT": [], "page cache (OMNIFEED_DIRECT_IO=off)": []}
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as out:
        cmd = [BIN, "--config", BENCH_TOML, "export", "--catalog", cat, "--out", out,
               "--no-progress", "google-shopping"]
        for _ in range(a.runs):
            for name, env in (("O_DIRECT", {}), ("page cache (OMNIFEED_DIRECT_IO=off)", {"OMNIFEED_DIRECT_IO": "off"})):
                cpu = []
                wall, rss, code = timed(cmd, cpu=cpu, env={**os.environ, **env})
                results[name].append((wall, rss, code, *cpu[0]))
        size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)) / 1e9
    best = {name: min(runs) for name, runs in results.items()}
    for name, (wall, rss, code, user, system) in best.items():
        print(f"{'export google, ' + name:<52} {wall:7.2f} s  user {user:6.2f} s  sys {system:6.2f} s  "
              f"peak RSS {rss:6.0f} MiB  {size / wall:5.2f} GB/s" + (f"  (exit {code})" if code else ""))
    (direct, *_), (cached, *_) = best.values()
    print(f"{'page cache / O_DIRECT wall':<52} {cached / direct:7.2f}x  ({size:.2f} GB written per run)")


def bench_dirty(a, cat):
    """Memory with millions of findings: every item lacks a recommended field."""
    import csv
    dirty = cat + "-nobrand"
    if not os.path.exists(os.path.join(dirty, "products.csv")):
        os.makedirs(dirty, exist_ok=True)
        for name in ("inventory.csv", "locations.csv"):
            os.symlink(os.path.join(cat, name), os.path.join(dirty, name))
        with open(os.path.join(cat, "products.csv"), newline="") as src, \
                open(os.path.join(dirty, "products.csv.tmp"), "w", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
            header = next(reader)
            writer.writerow(header)
            brand = header.index("brand")
            for row in reader:
                row[brand] = ""
                writer.writerow(row)
        os.replace(os.path.join(dirty, "products.csv.tmp"), os.path.join(dirty, "products.csv"))
    for fmt in ("human", "json"):
        with tempfile.TemporaryDirectory() as out:
            wall, rss, code = best_of(a.runs, [BIN, "--config", BENCH_TOML, "export", "--catalog", dirty,
                                               "--out", out, "--no-progress", "--format", fmt,
                                               "google-shopping", "meta-catalog", "google-local-inventory"])
            line(f"export, no brand, --format {fmt}", wall, rss, a.variants)
            if code != 0:
                print(f"  (exit {code})")


def bench_diff(a, cat):
    """Push the catalog once into a fresh state, change 1 % of prices, time `diff`."""
    import csv, shutil
    state_dir = os.path.join(ROOT, "target", "bench-state")
    shutil.rmtree(state_dir, ignore_errors=True)
    cfg = ["--config", BENCH_TOML, "--no-progress"]
    wall, rss, code = timed([BIN, *cfg, "push", "--force", "--catalog", cat, "google-shopping"])
    line("omnifeed push (first, google)", wall, rss, a.variants)
    if code != 0:
        print(f"  (exit {code})")
    with tempfile.TemporaryDirectory() as changed:
        for name in ("inventory.csv", "locations.csv"):
            os.symlink(os.path.join(cat, name), os.path.join(changed, name))
        repriced = 0
        with open(os.path.join(cat, "products.csv"), newline="") as src, \
                open(os.path.join(changed, "products.csv"), "w", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst)
            header = next(reader)
            writer.writerow(header)
            price = header.index("price")
            for i, row in enumerate(reader):
                # Every 100th row up by 1.00: 1 % changed, no sale price ends up above price.
                if i % 100 == 0:
                    try:
                        row[price] = "%.2f" % (float(row[price]) + 1.0)
                        repriced += 1
                    except ValueError:
                        pass
                writer.writerow(row)
        diff = [BIN, *cfg, "diff", "--catalog", changed, "google-shopping"]
        wall, rss, code = best_of(a.runs, diff)
        line(f"omnifeed diff (google, {repriced} repriced)", wall, rss, a.variants)
        out = subprocess.run([*diff, "--format", "json", "--limit", "0"], capture_output=True, check=False)
        totals = json.loads(out.stdout)["feeds"][0]["totals"]
        print(f"  diff totals: {totals} (exit {code})")


def start_sshd(tmp):
    """A throw-away OpenSSH sshd on 127.0.0.1 (as in tests/cli/sshd.rs): returns (process,
    port, user key, known_hosts file, upload folder)."""
    import socket
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(tmp, name)], check=True)
    p = lambda name: os.path.join(tmp, name)
    remote = p("remote")
    os.makedirs(remote)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(p("sshd_config"), "w") as f:
        f.write(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {p('host_key')}\nPidFile none\n"
                f"AuthorizedKeysFile {p('user_key')}.pub\nStrictModes no\nUsePAM no\n"
                "PasswordAuthentication no\nPermitRootLogin prohibit-password\n"
                "Subsystem sftp internal-sftp\n")
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", p("sshd_config")],
                            stderr=open(p("sshd.log"), "w"))
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
    kind, key = open(p("host_key.pub")).read().split()[:2]
    with open(p("known_hosts"), "w") as f:
        f.write(f"[127.0.0.1]:{port} {kind} {key}\n")
    return sshd, port, p("user_key"), p("known_hosts"), remote


def bench_sftp(a, cat):
    """The Google feed to a local sshd: omnifeed's push, OpenSSH's sftp, cp."""
    import getpass, shutil
    feed = "google-shopping"
    user = getpass.getuser()
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as tmp:
        sshd, port, key, known_hosts, remote = start_sshd(tmp)
        try:
            template = open(os.path.join(ROOT, "benches", "feeds", f"{feed}.toml")).read()
            template = template[:template.index("[destination]")]
            projects = {}
            for kind, dest in (
                    ("dir", f'kind = "dir"\npath = "{tmp}/dir-out"\n'),
                    ("sftp", f'kind = "sftp"\nhost = "127.0.0.1"\nport = {port}\nuser = "{user}"\n'
                             f'key_file = "{key}"\nknown_hosts = "{known_hosts}"\npath = "{remote}"\n')):
                project = os.path.join(tmp, f"project-{kind}")
                os.makedirs(os.path.join(project, "feeds"))
                with open(os.path.join(project, "omnifeed.toml"), "w") as f:
                    f.write('feeds_dir = "feeds"\n[defaults]\ncountry = "DE"\nlanguage = "en"\n'
                            'time_zone = "Europe/Berlin"\n[state]\npath = "state.db"\n')
                with open(os.path.join(project, "feeds", f"{feed}.toml"), "w") as f:
                    f.write(template + "[destination]\n" + dest)
                projects[kind] = ["--config", os.path.join(project, "omnifeed.toml"), "--no-progress"]

            export_dir = os.path.join(tmp, "export")
            export, erss, _ = timed([BIN, *projects["dir"], "export", "--catalog", cat, "--out", export_dir, feed])
            path = os.path.join(export_dir, f"{feed}.xml")
            mb = os.path.getsize(path) / 1e6
            print(f"feed file: {mb:.0f} MB ({feed}.xml)")
            line("omnifeed export (google)", export, erss, a.variants)

            def upload_line(name, wall, rss, extra=""):
                print(f"{name:<34} {wall:7.2f} s  {mb / wall:7.1f} MB/s  peak RSS {rss:6.0f} MiB{extra}")

            def fresh(copy):
                if os.path.exists(copy):
                    os.remove(copy)
                return copy

            cp = min(timed(["cp", path, fresh(os.path.join(remote, "cp.xml"))]) for _ in range(a.runs))
            os.remove(os.path.join(remote, "cp.xml"))
            upload_line("cp (floor)", cp[0], cp[1])
            batch = os.path.join(tmp, "batch")
            with open(batch, "w") as f:
                f.write(f"put {path} {remote}/sftp.xml\n")
            sftp_cmd = ["sftp", "-q", "-b", batch, "-i", key, "-P", str(port), "-o", f"UserKnownHostsFile={known_hosts}",
                        "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"{user}@127.0.0.1"]
            runs = []
            for _ in range(a.runs):
                fresh(os.path.join(remote, "sftp.xml"))
                runs.append(timed(sftp_cmd))
            os.remove(os.path.join(remote, "sftp.xml"))
            shutil.rmtree(export_dir)
            sftp = min(runs)
            upload_line("OpenSSH sftp -b put", sftp[0], sftp[1], f"  (exit {sftp[2]})" if sftp[2] else "")

            # The first pushes fill the states; the timed ones send the whole file again
            # with nothing to record, so their difference is the upload.
            pushes = {}
            for kind in ("dir", "sftp"):
                first = timed([BIN, *projects[kind], "push", "--force", "--catalog", cat, feed])
                if first[2] != 0:
                    print(f"  first {kind} push: exit {first[2]}")
                pushes[kind] = best_of(a.runs, [BIN, *projects[kind], "push", "--catalog", cat, feed])
            shutil.rmtree(os.path.join(tmp, "dir-out"))
            dir_push, sftp_push = pushes["dir"], pushes["sftp"]
            line("omnifeed push to a folder", dir_push[0], dir_push[1], a.variants)
            line("omnifeed push to sshd", sftp_push[0], sftp_push[1], a.variants)
            upload = sftp_push[0] - dir_push[0]
            if upload > 0:
                upload_line("omnifeed upload (push difference)", upload, sftp_push[1],
                            f"  {upload / sftp[0]:.2f}x sftp's time")
            print(f"peak RSS of the sftp push above the export: {sftp_push[1] - erss:+.0f} MiB; "
                  f"above the folder push: {sftp_push[1] - dir_push[1]:+.0f} MiB")
            delivered = os.path.getsize(os.path.join(remote, f"{feed}.xml")) / 1e6
            print(f"delivered {delivered:.0f} MB; exit codes: dir {dir_push[2]}, sftp {sftp_push[2]}")
        finally:
            sshd.kill()
            sshd.wait()


if __name__ == "__main__":
    main()
