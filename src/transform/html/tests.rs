use super::{has_markup, strip_html};

#[test]
fn tags_go_entities_decode_space_collapses() {
    assert_eq!(
        strip_html("<p>Soft &amp; warm.</p><ul><li>cotton</li><li>wool</li></ul>"),
        "Soft & warm. cotton wool"
    );
    assert_eq!(
        strip_html("a&nbsp;b &#233;t&#xE9; &bogus; x"),
        "a b été &bogus; x"
    );
    assert_eq!(strip_html("  plain\n\ttext  "), "plain text");
    assert_eq!(strip_html("Tom & Jerry"), "Tom & Jerry");
    assert_eq!(strip_html("unclosed <tag"), "unclosed");
}

/// Issue #9.2: European shop exports write umlauts, dashes and currency signs as named
/// entities; every HTML5 name decodes, with or without a tag in the text.
#[test]
fn every_html5_entity_decodes_without_a_tag() {
    assert_eq!(
        strip_html("Gr&ouml;&szlig;e &ndash; 5&euro; &hellip;"),
        "Größe – 5€ …"
    );
    assert_eq!(strip_html("Gr&ouml;&szlig;e <b>XL</b>"), "Größe XL");
    assert_eq!(
        strip_html("&laquo;Caf&eacute;&raquo; &copy; &frac12;&times;2 &NotEqualTilde;"),
        "«Café» © ½×2 \u{2242}\u{338}"
    );
    // Decoded markup characters are text, not tags to strip again.
    assert_eq!(strip_html("5 &lt;b&gt; 6"), "5 <b> 6");
    // Not entities: unknown names, no `;`, a `;` too far away.
    assert_eq!(strip_html("AT&T; R&D &euro"), "AT&T; R&D &euro");
    assert_eq!(
        strip_html(&format!("&{};", "a".repeat(40))),
        format!("&{};", "a".repeat(40))
    );
}

/// Issue #9.2: script and style content is code; a shopper must never read it.
#[test]
fn script_style_and_comments_leave_nothing() {
    assert_eq!(
        strip_html("<p>Warm</p><script>alert(1)</script><style>p{}</style> coat"),
        "Warm coat"
    );
    assert_eq!(
        strip_html("a<SCRIPT type=\"text/javascript\">if (x < 1) { y = '</p>'; }</SCRIPT>b"),
        "a b"
    );
    assert_eq!(strip_html("a<!-- x > y -->b"), "a b");
    assert_eq!(strip_html("never closed<script>alert(1)"), "never closed");
    // `<scripted>` is another element: only its tag goes.
    assert_eq!(strip_html("<scripted>kept</scripted>"), "kept");
}

#[test]
fn a_less_than_sign_that_opens_no_tag_is_text() {
    assert_eq!(
        strip_html("Kids < 5 kg, <3 & <= 10"),
        "Kids < 5 kg, <3 & <= 10"
    );
    assert_eq!(strip_html("ends with <"), "ends with <");
}

#[test]
fn plain_text_is_told_apart_cheaply() {
    assert!(!has_markup("Soft cotton shirt, 100 % wool"));
    assert!(has_markup("Gr&ouml;&szlig;e"));
    assert!(has_markup("<b>x</b>"));
}
