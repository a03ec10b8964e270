//! Issue #9.2: what shoppers read is plain text. Titles and descriptions from shop exports
//! carry HTML entities and script or style blocks; the feed has the decoded text and no code.

use std::collections::HashMap;

use crate::support::{TestEnv, dir_feed};

const HEADER: &str = "sku,title,price,currency,link,image_link,description,brand,gtin,condition\n";

fn row(sku: &str, gtin: &str, title: &str, description: &str) -> String {
    format!(
        "{sku},\"{title}\",10.00,EUR,https://s.example.com/{sku},https://c.example.com/{sku}.jpg,\"{description}\",Contoso,{gtin},new\n"
    )
}

/// (id -> (title, description)) of every item of an RSS feed, read with roxmltree.
fn rss_texts(xml: &str) -> HashMap<String, (String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed RSS");
    doc.descendants()
        .filter(|n| n.has_tag_name("item"))
        .map(|item| {
            let text = |name: &str| {
                item.children()
                    .find(|n| n.tag_name().name() == name)
                    .and_then(|n| n.text())
                    .unwrap_or_default()
                    .to_owned()
            };
            (text("id"), (text("title"), text("description")))
        })
        .collect()
}

#[test]
fn entities_decode_and_script_text_never_reaches_the_google_feed() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        "cat/products.csv",
        format!(
            "{HEADER}{}{}",
            row(
                "ENT",
                "4006381333931",
                "Gr&ouml;&szlig;e XL Mantel &amp; Schal",
                "Gr&ouml;&szlig;e &ndash; 5&euro; &hellip;",
            ),
            row(
                "TAG",
                "0012345678905",
                "Caf&eacute; Becher",
                "<p>Warm&nbsp;&amp; soft</p><script>alert(1)</script><style>p{}</style><p>for &lt; 5&deg;C</p>",
            ),
        ),
    );
    env.write("feeds/google.toml", dir_feed("google-merchant", "xml", ""));
    env.run(&["export"]).expect_code(0);
    let items = rss_texts(&env.read("out/google.xml"));
    assert_eq!(
        items["ENT"],
        (
            "Größe XL Mantel & Schal".to_owned(),
            "Größe – 5€ …".to_owned()
        )
    );
    assert_eq!(
        items["TAG"],
        ("Café Becher".to_owned(), "Warm & soft for < 5°C".to_owned())
    );
}
