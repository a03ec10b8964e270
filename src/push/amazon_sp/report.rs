//! The JSON listings processing report (schema v2): a header, issues per `messageId` and
//! a summary. Each message's issues decide its item's verdict: an ERROR rejects it (code
//! and message kept), WARNINGs and INFOs leave it accepted, a message without issues is
//! accepted.

use std::collections::HashMap;

use serde::Deserialize;

use crate::push::items::ItemVerdict;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Report {
    #[serde(default)]
    issues: Vec<Issue>,
    summary: Summary,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Issue {
    message_id: Option<u64>,
    code: Option<String>,
    severity: Severity,
    message: Option<String>,
    attribute_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    messages_accepted: u64,
    /// Absent in a report that processed every message.
    #[serde(default)]
    messages_processed: Option<u64>,
}

impl Report {
    pub(super) fn parse(bytes: &[u8]) -> Result<Report, String> {
        serde_json::from_slice(bytes).map_err(|err| {
            format!("the processing report is not a JSON listings processing report: {err}")
        })
    }

    /// One verdict per message of a document of `messages` messages, and the warnings.
    pub(super) fn verdicts(&self, messages: usize) -> Vec<ItemVerdict> {
        let mut errors: HashMap<usize, Vec<String>> = HashMap::new();
        let mut warnings: HashMap<usize, Vec<String>> = HashMap::new();
        let mut whole_feed: Vec<String> = Vec::new();
        for issue in &self.issues {
            let text = issue.text();
            let index = issue
                .message_id
                .and_then(|id| usize::try_from(id).ok())
                .and_then(|id| id.checked_sub(1))
                .filter(|index| *index < messages);
            match (index, issue.severity) {
                (Some(index), Severity::Error) => errors.entry(index).or_default().push(text),
                (Some(index), _) => warnings.entry(index).or_default().push(text),
                (None, Severity::Error) => whole_feed.push(text),
                (None, _) => {}
            }
        }
        // An error not tied to a message (the document's form) with no message accepted
        // refuses them all; with some accepted it tells nothing about any one message.
        let all_refused = !whole_feed.is_empty() && self.summary.messages_accepted == 0;
        // Amazon stopped before the end of the document: a message without issues may
        // never have been read, so it is not recorded and goes again (UPDATE and DELETE
        // are safe to repeat).
        let processed = self.summary.messages_processed;
        let unprocessed = processed.filter(|&n| n < messages as u64).map(|n| {
            format!(
                "Amazon processed {n} of the document's {messages} messages; sent again next push"
            )
        });
        (0..messages)
            .map(|index| match errors.remove(&index) {
                Some(reasons) => ItemVerdict::Rejected(reasons.join("; ")),
                None if all_refused => ItemVerdict::Rejected(whole_feed.join("; ")),
                None => match (&unprocessed, warnings.remove(&index)) {
                    (Some(reason), _) => ItemVerdict::NotSent(reason.clone()),
                    (None, Some(warned)) => ItemVerdict::AcceptedWithWarnings(warned.join("; ")),
                    (None, None) => ItemVerdict::Accepted,
                },
            })
            .collect()
    }

    /// The errors not tied to a message, for a FATAL feed's reason.
    pub(super) fn feed_errors(&self) -> Vec<String> {
        self.issues
            .iter()
            .filter(|issue| issue.severity == Severity::Error && issue.message_id.is_none())
            .map(Issue::text)
            .collect()
    }
}

impl Issue {
    /// `code: message (attribute)`, as the seller sees it in Seller Central.
    fn text(&self) -> String {
        let mut text = match (&self.code, &self.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            (None, Some(message)) => message.clone(),
            (None, None) => "no message".to_owned(),
        };
        if let Some(attribute) = &self.attribute_name {
            text.push_str(&format!(" (attribute {attribute})"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_map_to_their_messages() {
        let report = Report::parse(
            br#"{"header":{"sellerId":"A1","version":"2.0","feedId":"7"},
                "issues":[
                  {"messageId":2,"sku":"b","code":"90220","severity":"ERROR","message":"'brand' is required"},
                  {"messageId":2,"sku":"b","code":"99022","severity":"ERROR","message":"too few","attributeName":"purchasable_offer"},
                  {"messageId":3,"sku":"c","code":"18027","severity":"WARNING","message":"image small"}],
                "summary":{"errors":2,"warnings":1,"messagesProcessed":3,"messagesAccepted":2,"messagesInvalid":1}}"#,
        )
        .unwrap();
        let verdicts = report.verdicts(3);
        assert_eq!(verdicts[0], ItemVerdict::Accepted);
        assert_eq!(
            verdicts[1],
            ItemVerdict::Rejected(
                "90220: 'brand' is required; 99022: too few (attribute purchasable_offer)".into()
            )
        );
        assert_eq!(
            verdicts[2],
            ItemVerdict::AcceptedWithWarnings("18027: image small".into())
        );
    }

    #[test]
    fn a_feed_level_error_with_nothing_accepted_refuses_every_message() {
        let report = Report::parse(
            br#"{"header":{"sellerId":"A1","version":"2.0","feedId":"7"},
                "issues":[{"code":"4000003","severity":"ERROR","message":"bad document"}],
                "summary":{"errors":1,"warnings":0,"messagesProcessed":0,"messagesAccepted":0,"messagesInvalid":0}}"#,
        )
        .unwrap();
        let verdicts = report.verdicts(2);
        assert!(
            verdicts
                .iter()
                .all(|v| *v == ItemVerdict::Rejected("4000003: bad document".into()))
        );
    }

    #[test]
    fn messages_amazon_did_not_process_are_not_recorded() {
        let report = Report::parse(
            br#"{"header":{"sellerId":"A1","version":"2.0","feedId":"7"},
                "issues":[{"messageId":1,"code":"90220","severity":"ERROR","message":"'brand' is required"}],
                "summary":{"errors":1,"warnings":0,"messagesProcessed":2,"messagesAccepted":1,"messagesInvalid":1}}"#,
        )
        .unwrap();
        let verdicts = report.verdicts(3);
        assert_eq!(
            verdicts[0],
            ItemVerdict::Rejected("90220: 'brand' is required".into())
        );
        for verdict in &verdicts[1..] {
            assert!(
                matches!(verdict, ItemVerdict::NotSent(reason) if reason.contains("processed 2 of")),
                "{verdict:?}"
            );
        }
    }
}
