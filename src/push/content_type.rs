//! The `Content-Type` a feed file is published with, from its format's kind (never from a
//! channel's name). A gzipped feed is sent as what it is on disk, `application/gzip`, with
//! no `Content-Encoding`: with `Content-Encoding: gzip` some HTTP clients would unpack it
//! on the fly and others not, so a channel fetching `feed.xml.gz` could get either bytes;
//! `application/gzip` means every fetcher gets the same `.gz` file the name promises.

use crate::feed::Feed;
use crate::spec::FormatKind;

pub(crate) fn content_type(feed: &Feed) -> &'static str {
    if feed.gzip {
        return "application/gzip";
    }
    match feed.format.kind {
        FormatKind::Rss => "application/xml; charset=utf-8",
        FormatKind::Delimited if feed.format.delimiter == b'\t' => {
            "text/tab-separated-values; charset=utf-8"
        }
        FormatKind::Delimited => "text/csv; charset=utf-8",
        FormatKind::Jsonl => "application/x-ndjson",
        FormatKind::JsonDocument => "application/json",
    }
}
